// The one outbound HTTP path of the connectors: a fixed base URL, Basic auth with the service account's
// token, a deadline per tool call, one honoured Retry-After, bounded bodies, and every failure turned into
// a ConnectorError whose message the model can act on. The token is never part of a message: messages
// are written here from the status, plus the upstream's own error text, scrubbed of the token anyway.
import type { ConnectorAccount } from '../config.ts'
import { abortableSleep } from '../abortable-sleep.ts'

/** What went wrong, as the model should read it; `kind` is what the audit event records. */
export class ConnectorError extends Error {
  readonly kind: ConnectorErrorKind
  constructor (kind: ConnectorErrorKind, message: string) {
    super(message)
    this.name = 'ConnectorError'
    this.kind = kind
  }
}

export type ConnectorErrorKind = 'denied' | 'forbidden' | 'not_found' | 'bad_request' | 'rate_limited' | 'timeout' | 'unreachable' | 'upstream_error' | 'bad_answer' | 'credentials' | 'invalid'

export interface UpstreamResponse {
  status: number
  headers: Headers
  text: string
}

export interface RequestOptions {
  method?: 'GET' | 'POST'
  /** Arrays repeat the parameter (keys=A&keys=B). */
  query?: Record<string, string | number | readonly string[] | undefined>
  /** JSON body (sent as application/json) or form fields (application/x-www-form-urlencoded). */
  json?: unknown
  form?: URLSearchParams
  headers?: Record<string, string>
  /** What the request is about, for messages ("project ENG", "job eng/build"). */
  target: string
  /** Statuses the caller handles itself instead of an error (e.g. Jenkins' 403 that asks for a crumb). */
  accept?: readonly number[]
  /** Keep only the last this-many bytes of a long body instead of failing (console logs). */
  tailBytes?: number
}

export interface UpstreamHttpOptions {
  /** "JIRA" or "Jenkins": the name messages use. */
  service: string
  account: ConnectorAccount
  /** The API token, resolved on first use (Secrets Manager by ARN on AWS). */
  token: () => Promise<string>
  fetch: typeof globalThis.fetch
  /** Turns an upstream error body into its message (each API words errors its own way). */
  errorMessage: (body: unknown, text: string) => string | undefined
  maxBodyBytes?: number
  /** Waits (Retry-After); injectable so tests need not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

const DEFAULT_MAX_BODY = 2 * 1024 * 1024
const MAX_MESSAGE = 500

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); milliseconds from now, or undefined. */
export function retryAfterMs (value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The per-call deadline: the tool call's own signal (client cancel) and the time limit, together. */
export interface Deadline {
  signal: AbortSignal
  /** Epoch ms. */
  at: number
}

export function deadline (signal: AbortSignal, timeoutMs: number): Deadline {
  return { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), at: Date.now() + timeoutMs }
}

export class UpstreamHttp {
  readonly #options: UpstreamHttpOptions
  readonly #base: URL
  readonly #maxBody: number
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>

  constructor (options: UpstreamHttpOptions) {
    this.#options = options
    this.#base = new URL(options.account.baseUrl + '/')
    this.#maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
    this.#sleep = options.sleep ?? abortableSleep
  }

  get service (): string { return this.#options.service }

  /** An absolute URL under the base; anything else (another origin, a path escaping the base) is refused. */
  url (path: string, query: RequestOptions['query'] = {}): URL {
    const url = new URL(path.replace(/^\/+/, ''), this.#base)
    if (url.origin !== this.#base.origin || !url.pathname.startsWith(this.#base.pathname)) {
      throw new ConnectorError('invalid', `${path} is not under the ${this.service} URL`)
    }
    for (const [k, v] of Object.entries(query)) {
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item)
      else if (v !== undefined) url.searchParams.set(k, String(v))
    }
    return url
  }

  /** Whether an absolute URL the upstream handed back (a queue item, a Location) stays on its origin and base path. */
  owns (href: string): boolean {
    try {
      const url = new URL(href)
      return url.origin === this.#base.origin && url.pathname.startsWith(this.#base.pathname)
    } catch { return false }
  }

  async #authorization (): Promise<string> {
    let token: string
    try {
      token = await this.#options.token()
    } catch {
      throw new ConnectorError('credentials', `the ${this.service} API token could not be read (an operator must store it in the configured secret)`)
    }
    return `Basic ${Buffer.from(`${this.#options.account.user}:${token}`).toString('base64')}`
  }

  /** Removes the token (and its Basic form) from text the upstream wrote, in case it ever echoes it. */
  async #scrub (text: string): Promise<string> {
    let token = ''
    try { token = await this.#options.token() } catch { /* nothing to scrub */ }
    let out = text
    if (token.length >= 4) {
      out = out.split(token).join('[redacted]')
      const basic = Buffer.from(`${this.#options.account.user}:${token}`).toString('base64')
      out = out.split(basic).join('[redacted]')
    }
    return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out
  }

  async request (path: string, options: RequestOptions, limit: Deadline): Promise<UpstreamResponse> {
    const url = this.url(path, options.query)
    const authorization = await this.#authorization()
    let retried = false
    for (;;) {
      const response = await this.#send(url, options, authorization, limit)
      if (response.status === 429 && !(options.accept ?? []).includes(429)) {
        // Honour Retry-After once, and only when the wait still fits the call's time limit.
        const wait = retryAfterMs(response.headers.get('retry-after'))
        if (!retried && wait !== undefined && Date.now() + wait < limit.at - 250) {
          retried = true
          try { await this.#sleep(wait, limit.signal) } catch { throw this.#aborted(limit, options.target) }
          continue
        }
        const seconds = wait === undefined ? undefined : Math.ceil(wait / 1000)
        throw new ConnectorError('rate_limited', `${this.service} is rate limiting requests${seconds === undefined ? '' : `; try again in ${seconds} s`}`)
      }
      if (response.status < 400 || (options.accept ?? []).includes(response.status)) return response
      throw await this.failure(response, options.target)
    }
  }

  /** The answer parsed as JSON; anything else is a bad answer, not a crash. */
  async json<T> (path: string, options: RequestOptions, limit: Deadline): Promise<T> {
    const response = await this.request(path, { ...options, headers: { accept: 'application/json', ...options.headers } }, limit)
    return this.parse<T>(response)
  }

  parse<T> (response: UpstreamResponse): T {
    try {
      const value = JSON.parse(response.text) as unknown
      if (value === null || typeof value !== 'object') throw new TypeError('not an object')
      return value as T
    } catch {
      throw new ConnectorError('bad_answer', `${this.service} sent an answer that is not the expected JSON (HTTP ${response.status})`)
    }
  }

  #aborted (limit: Deadline, target: string): ConnectorError {
    return limit.signal.reason instanceof DOMException && limit.signal.reason.name === 'TimeoutError'
      ? new ConnectorError('timeout', `${this.service} did not answer in time (${target}); try again later or narrow the request`)
      : new ConnectorError('timeout', 'the request was cancelled')
  }

  async #send (url: URL, options: RequestOptions, authorization: string, limit: Deadline): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { authorization, 'user-agent': 'gatehouse', ...options.headers }
    let body: string | undefined
    if (options.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(options.json) }
    if (options.form !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = options.form.toString() }
    let response: Response
    try {
      // No redirects: the Basic credentials must reach this origin only.
      response = await this.#options.fetch(url, { method: options.method ?? 'GET', headers, body, redirect: 'manual', signal: limit.signal })
    } catch {
      if (limit.signal.aborted) throw this.#aborted(limit, options.target)
      throw new ConnectorError('unreachable', `${this.service} is unreachable at the moment; try again later`)
    }
    let text: string | undefined
    try {
      text = await this.#readBounded(response, options.tailBytes)
    } catch {
      if (limit.signal.aborted) throw this.#aborted(limit, options.target)
      throw new ConnectorError('unreachable', `the connection to ${this.service} broke off; try again later`)
    }
    if (text === undefined) throw new ConnectorError('bad_answer', `the ${this.service} answer exceeds ${this.#maxBody} bytes; narrow the request`)
    return { status: response.status, headers: response.headers, text }
  }

  async #readBounded (response: Response, tailBytes: number | undefined): Promise<string | undefined> {
    const reader = response.body?.getReader()
    if (reader === undefined) return ''
    let chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      chunks.push(value)
      if (tailBytes !== undefined && size > 2 * tailBytes) {
        // Memory stays bounded however long the log: keep only its tail.
        const kept = Buffer.concat(chunks).subarray(-tailBytes)
        chunks = [kept]
        size = kept.byteLength
      } else if (tailBytes === undefined && size > this.#maxBody) { await reader.cancel(); return undefined }
    }
    const all = Buffer.concat(chunks)
    return (tailBytes === undefined ? all : all.subarray(-tailBytes)).toString('utf8')
  }

  /** The ConnectorError an error answer means (also for statuses a caller accepted and then could not use). */
  async failure (response: UpstreamResponse, target: string): Promise<ConnectorError> {
    let body: unknown
    try { body = JSON.parse(response.text) } catch { body = undefined }
    const said = this.#options.errorMessage(body, response.text)
    const detail = said === undefined || said === '' ? '' : `: ${await this.#scrub(said)}`
    const s = this.service
    switch (response.status) {
      case 401: return new ConnectorError('credentials', `${s} refused the service account's credentials (HTTP 401); an operator must check the configured user and API token`)
      case 403: return new ConnectorError('forbidden', `the ${s} service account lacks permission for ${target} (HTTP 403)${detail}`)
      case 404: return new ConnectorError('not_found', `${target} was not found in ${s}, or the service account cannot see it (HTTP 404)${detail}`)
      case 400:
      case 409:
      case 422: return new ConnectorError('bad_request', `${s} rejected the request for ${target} (HTTP ${response.status})${detail}`)
    }
    if (response.status >= 500) return new ConnectorError('upstream_error', `${s} failed with HTTP ${response.status}; try again later`)
    return new ConnectorError('upstream_error', `${s} answered HTTP ${response.status} for ${target}${detail}`)
  }
}
