// Walks a browser login with real HTTP and no browser: follows redirects by hand, keeps cookies like a
// browser would (per host, not per port), fills the IdP's login form and any other form the caller
// answers (a consent page), and stops before requesting the first URL that starts with `stopAt`.
// Not an HTML parser: it understands the plain forms that the development IdP and gatehouse render.

export interface FormSubmission {
  action: string | URL
  method?: 'GET' | 'POST'
  fields: Record<string, string> | URLSearchParams
}

export interface ParsedForm {
  action: URL
  method: 'GET' | 'POST'
  /** Named inputs with their values (hidden ones included); checkboxes only when checked. */
  fields: Record<string, string>
  /** Named submit buttons, in document order. */
  buttons: Array<{ name: string, value: string }>
  inputNames: string[]
}

export interface LoginThroughFormOptions {
  /** Stop (without requesting it) at the first URL that starts with this, e.g. `http://127.0.0.1:3000/callback`. */
  stopAt: string
  /** Answers a page the walker has no rule for; return undefined to let the login-form rule try. */
  onForm?: (html: string, url: URL) => FormSubmission | undefined
  /** Continue with the cookies of an earlier walk (a remembered IdP session, a consent cookie). */
  cookies?: CookieJar
  /** Extra request headers sent on every request (e.g. `sec-fetch-site`). */
  headers?: Record<string, string>
  /** Redirects plus form posts; default 20. */
  maxSteps?: number
  /** Per request; default 10 s. */
  timeoutMs?: number
}

export interface LoginThroughFormResult {
  /** The URL that matched `stopAt`; not requested. */
  url: URL
  cookies: CookieJar
}

export class BrowserlessLoginError extends Error {
  readonly status: number
  readonly url: string
  readonly body: string
  constructor (message: string, details: { status: number, url: string, body: string }) {
    super(message)
    this.name = 'BrowserlessLoginError'
    this.status = details.status
    this.url = details.url
    this.body = details.body
  }
}

interface StoredCookie { name: string, value: string, host: string, path: string, expiresAt: number | undefined }

/** Browser-like enough for loopback tests: host-scoped (ports share cookies, as in browsers), path-matched, expiring. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>()

  store (requestUrl: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const cookie: StoredCookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), host: requestUrl.hostname, path: defaultPath(requestUrl), expiresAt: undefined }
      for (const attribute of attributes) {
        const [rawKey = '', ...rest] = attribute.split('=')
        const key = rawKey.trim().toLowerCase()
        const value = rest.join('=').trim()
        if (key === 'path' && value.startsWith('/')) cookie.path = value
        else if (key === 'max-age') cookie.expiresAt = Date.now() + Number(value) * 1000
        else if (key === 'expires' && cookie.expiresAt === undefined) cookie.expiresAt = Date.parse(value)
      }
      const id = `${cookie.host}|${cookie.path}|${cookie.name}`
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) this.#cookies.delete(id)
      else this.#cookies.set(id, cookie)
    }
  }

  /** The Cookie header a browser would send to `url`, or undefined. */
  header (url: URL): string | undefined {
    const now = Date.now()
    const matching = [...this.#cookies.values()]
      .filter(c => c.host === url.hostname && pathMatches(url.pathname, c.path) && (c.expiresAt === undefined || c.expiresAt > now))
      .sort((a, b) => b.path.length - a.path.length)
    return matching.length === 0 ? undefined : matching.map(c => `${c.name}=${c.value}`).join('; ')
  }

  get (name: string, host?: string): string | undefined {
    for (const c of this.#cookies.values()) if (c.name === name && (host === undefined || c.host === host)) return c.value
    return undefined
  }
}

export async function loginThroughForm (authorizationUrl: string | URL, username: string, password: string, options: LoginThroughFormOptions): Promise<LoginThroughFormResult> {
  const cookies = options.cookies ?? new CookieJar()
  const maxSteps = options.maxSteps ?? 20
  let url = new URL(authorizationUrl)
  let method: 'GET' | 'POST' = 'GET'
  let body: URLSearchParams | undefined
  let postedCredentials = false

  for (let step = 0; step < maxSteps; step++) {
    if (url.href.startsWith(options.stopAt)) return { url, cookies }
    const headers = new Headers(options.headers)
    const cookie = cookies.header(url)
    if (cookie !== undefined) headers.set('cookie', cookie)
    if (body !== undefined) headers.set('content-type', 'application/x-www-form-urlencoded')
    const response: Response = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) })
    cookies.store(url, response)

    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel()
      url = new URL(location, url)
      if (response.status !== 307 && response.status !== 308) { method = 'GET'; body = undefined }
      continue
    }

    const html: string = await response.text()
    const fail = (why: string) => new BrowserlessLoginError(`${why} at ${url.href} (HTTP ${response.status})`, { status: response.status, url: url.href, body: html })
    let submission: FormSubmission | undefined = options.onForm?.(html, url)
    if (submission === undefined) {
      const login = parseForms(html, url).find(f => f.inputNames.includes('username') && f.inputNames.includes('password'))
      if (login !== undefined) {
        // The same login form again after posting credentials means they were refused.
        if (postedCredentials) throw fail('login refused')
        postedCredentials = true
        submission = { action: login.action, method: login.method, fields: { ...login.fields, username, password } }
      }
    }
    if (submission === undefined) throw fail('no redirect and no form to submit')

    const target = new URL(submission.action, url)
    const fields = new URLSearchParams(submission.fields)
    method = submission.method ?? 'POST'
    if (method === 'GET') {
      target.search = fields.toString()
      body = undefined
    } else {
      body = fields
    }
    url = target
  }
  throw new BrowserlessLoginError(`gave up after ${maxSteps} steps before reaching ${options.stopAt}`, { status: 0, url: url.href, body: '' })
}

/** The forms of a plain HTML page, with actions resolved against `pageUrl`. */
export function parseForms (html: string, pageUrl: URL): ParsedForm[] {
  const forms: ParsedForm[] = []
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributesOf(match[1] ?? '')
    const inner = match[2] ?? ''
    const fields: Record<string, string> = {}
    const inputNames: string[] = []
    const buttons: Array<{ name: string, value: string }> = []
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributesOf(input[1] ?? '')
      const name = a.name
      if (name === undefined) continue
      inputNames.push(name)
      const type = (a.type ?? 'text').toLowerCase()
      if (type === 'submit') { buttons.push({ name, value: a.value ?? '' }); continue }
      if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue
      fields[name] = a.value ?? (type === 'checkbox' ? 'on' : '')
    }
    for (const button of inner.matchAll(/<button\b([^>]*)>/gi)) {
      const a = attributesOf(button[1] ?? '')
      if (a.name !== undefined && (a.type ?? 'submit').toLowerCase() === 'submit') buttons.push({ name: a.name, value: a.value ?? '' })
    }
    for (const textarea of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const a = attributesOf(textarea[1] ?? '')
      if (a.name !== undefined) { inputNames.push(a.name); fields[a.name] = decodeEntities(textarea[2] ?? '') }
    }
    forms.push({
      action: new URL(attrs.action === undefined || attrs.action === '' ? pageUrl.href : attrs.action, pageUrl),
      method: (attrs.method ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET',
      fields,
      buttons,
      inputNames
    })
  }
  return forms
}

/**
 * A submission for the first form on the page that has the given button (or the first form when no
 * button is named): its fields as rendered, the button's name=value, then `fields` on top.
 */
export function formSubmission (html: string, pageUrl: URL, choice: { button?: { name: string, value: string }, fields?: Record<string, string> } = {}): FormSubmission | undefined {
  const { button } = choice
  const form = parseForms(html, pageUrl).find(f => button === undefined || f.buttons.some(b => b.name === button.name && b.value === button.value))
  if (form === undefined) return undefined
  return {
    action: form.action,
    method: form.method,
    fields: { ...form.fields, ...(button === undefined ? {} : { [button.name]: button.value }), ...choice.fields }
  }
}

function attributesOf (source: string): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const m of source.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const name = (m[1] ?? '').toLowerCase()
    attributes[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '')
  }
  return attributes
}

function decodeEntities (value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (_, entity: string) => {
    const e = entity.toLowerCase()
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16))
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)))
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e] ?? ''
  })
}

function defaultPath (url: URL): string {
  const last = url.pathname.lastIndexOf('/')
  return last <= 0 ? '/' : url.pathname.slice(0, last)
}

function pathMatches (requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}
