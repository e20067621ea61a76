// Login and consent the way a person does it, in headless Chromium, against a running gatehouse and the
// real development IdP process: what the consent page shows, Allow and Deny, a replayed form, CSRF,
// framing (clickjacking), remembered consent only for direct navigations (DESIGN decision 8) and the
// browser binding of the callback. The client's redirect URI is intercepted, so no server runs there.
import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as oauth from 'oauth4webapi'
import type { BrowserContext, Page, Response } from 'playwright-core'
import { launchBrowser } from '../support/browser.ts'
import { CLIENT_REDIRECT, exchangeCode, registerClient, startHarness, type AuthorizationResult } from '../support/oauth-harness.ts'
import { CookieJar } from '../support/browserless-login.ts'

const CLIENT_NAME = 'Browser Test Client'
const CLIENT_HOST = new URL(CLIENT_REDIRECT).host

const h = await startHarness(t)
const browser = await launchBrowser(t)
const registered = await registerClient(h, { client_name: CLIENT_NAME })
const clientId = registered.client.client_id
const shots = await mkdtemp(join(tmpdir(), 'gatehouse-consent-shots-'))
t.teardown(() => rm(shots, { recursive: true, force: true }))

// Pages from another site (localhost is a different site from 127.0.0.1): a framing page and a link.
const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
const elsewhereServer: Server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', elsewhere)
  const target = url.searchParams.get('to') ?? ''
  res.setHeader('content-type', 'text/html; charset=utf-8')
  if (url.pathname === '/frame') res.end(`<!doctype html><title>framer</title><iframe id="f" name="f" src="${attr(target)}" width="600" height="600"></iframe>`)
  else if (url.pathname === '/link') res.end(`<!doctype html><title>linker</title><a id="go" href="${attr(target)}">sign in with gatehouse</a>`)
  // A frameable page with a consent-like button: proves the iframe check would see a rendered form.
  else if (url.pathname === '/frameable') res.end('<!doctype html><form><button name="decision" value="allow">Allow</button></form>')
  else { res.statusCode = 404; res.end() }
})
// Port 0: a port picked first and listened on later can be taken in between by a test running beside this one.
await new Promise<void>(resolve => elsewhereServer.listen(0, '127.0.0.1', resolve))
const elsewherePort = (elsewhereServer.address() as AddressInfo).port
const elsewhere = `http://localhost:${elsewherePort}`
t.teardown(() => new Promise<void>(resolve => { elsewhereServer.closeAllConnections(); elsewhereServer.close(() => resolve()) }))

interface Started { url: string, state: string, verifier: string }

async function authorizeUrl (scope = 'mcp:read mcp:write'): Promise<Started> {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(`${h.url}/authorize`)
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    response_type: 'code',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    scope,
    resource: `${h.url}/mcp`
  }).toString()
  return { url: url.href, state, verifier }
}

/** A page whose navigations to the client's redirect URI are answered here and recorded. */
interface ClientPage { page: Page, context: BrowserContext, arrivals: URL[], responses: Response[], nextArrival: () => Promise<URL> }

async function openPage (): Promise<ClientPage> {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  const arrivals: URL[] = []
  const waiters: Array<(url: URL) => void> = []
  await context.route(`${CLIENT_REDIRECT}**`, async route => {
    const url = new URL(route.request().url())
    arrivals.push(url)
    waiters.shift()?.(url)
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>client</title><p>back at the client</p>' })
  })
  const responses: Response[] = []
  page.on('response', r => { responses.push(r) })
  const nextArrival = (): Promise<URL> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the browser never reached the client redirect URI')), 10_000)
    waiters.push(url => { clearTimeout(timer); resolve(url) })
  })
  return { page, context, arrivals, responses, nextArrival }
}

async function signInAtIdp (page: Page, username = 'alice'): Promise<void> {
  await page.waitForSelector('input[name="username"]')
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', username)
  await page.click('button[type="submit"]')
}

/**
 * A navigation whose redirect chain ends at the intercepted client redirect URI can reject with
 * ERR_CONNECTION_REFUSED (Chromium tries the unserved port before the route answers); the route still
 * records the arrival, which is what the tests assert on.
 */
function clientRedirectRace (error: unknown): void {
  if (!String(error).includes('ERR_CONNECTION_REFUSED')) throw error
}

/** Runs `action` and waits until the browser has landed on the client's redirect URI; returns that URL. */
async function arriveAtClient (p: ClientPage, action: () => Promise<unknown>): Promise<URL> {
  const arrival = p.nextArrival()
  await action().catch(clientRedirectRace)
  const url = await arrival
  await p.page.waitForURL(u => u.href.startsWith(CLIENT_REDIRECT))
  await p.page.waitForLoadState()
  return url
}

const upstreamRedirects = (p: ClientPage): Response[] => p.responses.filter(r => r.url().startsWith(h.idp.issuer))

t.test('Allow: the consent page names the client and scopes; IdP sign-in returns to the client with code, state and iss', async t => {
  const p = await openPage()
  const start = await authorizeUrl()
  const response = await p.page.goto(start.url)
  t.equal(response?.status(), 200)
  t.equal(response?.headers()['x-frame-options'], 'DENY')
  await p.page.waitForSelector('button[name="decision"][value="allow"]')
  const text = await p.page.innerText('main')
  t.match(text, CLIENT_NAME, 'client_name')
  t.match(text, CLIENT_HOST, 'the redirect URI host')
  t.match(text, 'mcp:read')
  t.match(text, 'mcp:write')
  t.match(text, clientId, 'the client id')
  t.equal(await p.page.title(), 'Allow access? · gatehouse')
  t.equal(await p.page.locator('button[name="decision"]').count(), 2, 'Allow and Deny')

  const shot = join(shots, 'consent.png')
  await p.page.screenshot({ path: shot, fullPage: true })
  t.ok((await stat(shot)).size > 1000, 'a non-empty screenshot of the consent page')

  await p.page.click('button[value="allow"]')
  await p.page.waitForSelector('input[name="password"]')
  t.match(p.page.url(), h.idp.issuer, 'Allow leads to the IdP sign-in page')
  const back = await arriveAtClient(p, () => signInAtIdp(p.page))
  t.equal(`${back.origin}${back.pathname}`, CLIENT_REDIRECT)
  t.equal(back.searchParams.get('state'), start.state, 'state')
  t.equal(back.searchParams.get('iss'), h.url, 'iss (RFC 9207)')
  t.match(back.searchParams.get('code'), /^[A-Za-z0-9_-]{20,}$/, 'a code')
  t.notOk(back.searchParams.has('error'))

  // The code the browser brought back is good at the token endpoint.
  const result: AuthorizationResult = { redirect: back, state: start.state, verifier: start.verifier, cookies: new CookieJar() }
  const tokens = await exchangeCode(h, registered, result)
  t.ok(tokens.access_token)
  t.equal(tokens.scope, 'mcp:read mcp:write')

  t.test('DESIGN decision 8: a direct navigation skips the remembered consent', async t => {
    const again = await authorizeUrl()
    const before = p.responses.length
    const back = await arriveAtClient(p, () => p.page.goto(again.url))
    t.equal(back.searchParams.get('state'), again.state)
    t.ok(back.searchParams.get('code'))
    const authorizeResponse = p.responses.slice(before).find(r => r.url().startsWith(`${h.url}/authorize?`))
    t.equal(authorizeResponse?.status(), 303, '/authorize redirected straight on, no consent page')
  })

  t.test('DESIGN decision 8: a cross-site navigation (a link on another site) shows the consent page again', async t => {
    const again = await authorizeUrl()
    await p.page.goto(`${elsewhere}/link?to=${encodeURIComponent(again.url)}`)
    const before = p.responses.length
    await p.page.click('#go')
    await p.page.waitForURL(url => url.href.startsWith(`${h.url}/authorize?`))
    await p.page.waitForSelector('button[name="decision"][value="allow"]')
    const authorizeResponse = p.responses.slice(before).find(r => r.url().startsWith(`${h.url}/authorize?`))
    t.equal(authorizeResponse?.status(), 200, 'the consent page, not a redirect')
    t.match(await p.page.innerText('main'), CLIENT_NAME)
  })
})

t.test('Deny: the client gets access_denied with state and iss', async t => {
  const p = await openPage()
  const start = await authorizeUrl()
  await p.page.goto(start.url)
  const back = await arriveAtClient(p, () => p.page.click('button[value="deny"]'))
  t.equal(back.searchParams.get('error'), 'access_denied')
  t.equal(back.searchParams.get('state'), start.state)
  t.equal(back.searchParams.get('iss'), h.url)
  t.notOk(back.searchParams.has('code'))
  t.equal(upstreamRedirects(p).length, 0, 'the IdP was never involved')
})

async function consentFields (page: Page): Promise<Record<string, string>> {
  return {
    transaction: await page.inputValue('input[name="transaction"]'),
    csrf_token: await page.inputValue('input[name="csrf_token"]')
  }
}

t.test('a replayed consent form gets an HTML error page and no second upstream redirect', async t => {
  const p = await openPage()
  const start = await authorizeUrl()
  await p.page.goto(start.url)
  const fields = await consentFields(p.page)
  await p.page.click('button[value="allow"]')
  await p.page.waitForSelector('input[name="username"]')
  t.equal(upstreamRedirects(p).length > 0, true, 'the first submission reached the IdP')

  // The same form, posted again from the same browser (its cookies), as a resubmission would.
  const replay = await p.context.request.post(`${h.url}/authorize/consent`, { form: { ...fields, decision: 'allow' }, maxRedirects: 0 })
  t.equal(replay.status(), 400)
  t.equal(replay.headers().location, undefined, 'no redirect, upstream or otherwise')
  t.match(replay.headers()['content-type'], /^text\/html/)
  t.match(await replay.text(), /no longer valid/)

  // And through the browser itself: the same form, rendered again on gatehouse's origin, submitted again.
  const page2 = await p.context.newPage()
  const responses: Response[] = []
  page2.on('response', r => { responses.push(r) })
  await page2.goto(`${h.url}/healthz`)
  await page2.setContent(`<form method="post" action="${h.url}/authorize/consent"><input name="transaction" value="${attr(fields.transaction ?? '')}"><input name="csrf_token" value="${attr(fields.csrf_token ?? '')}"><button name="decision" value="allow">Allow</button></form>`)
  await page2.click('button')
  await page2.waitForLoadState()
  const answer = responses.find(r => r.url() === `${h.url}/authorize/consent`)
  t.ok(answer !== undefined && answer.status() >= 400, `the browser's resubmission is refused (${answer?.status()})`)
  t.match(await page2.innerText('body'), /This request cannot continue/)
  t.notOk(page2.url().startsWith(h.idp.issuer), 'the browser did not go to the IdP a second time')
  t.notOk(responses.some(r => r.url().startsWith(h.idp.issuer)), 'no second upstream redirect')
})

t.test('a missing or wrong CSRF token gets an HTML error page (403) and approves nothing', async t => {
  for (const [name, tamper] of [
    ['wrong', (page: Page) => page.fill('input[name="csrf_token"]', 'A'.repeat(43))],
    ['missing', (page: Page) => page.locator('input[name="csrf_token"]').evaluate(e => e.remove())]
  ] as const) {
    const p = await openPage()
    const start = await authorizeUrl()
    await p.page.goto(start.url)
    const transaction = await p.page.inputValue('input[name="transaction"]')
    await p.page.locator('input[name="csrf_token"]').evaluate(e => e.setAttribute('type', 'text'))
    await tamper(p.page)
    await p.page.click('button[value="allow"]')
    await p.page.waitForLoadState()
    const answer = p.responses.find(r => r.url() === `${h.url}/authorize/consent`)
    t.equal(answer?.status(), 403, `${name}: 403`)
    t.match(answer?.headers()['content-type'], /^text\/html/, `${name}: an HTML page`)
    t.match(await p.page.innerText('main'), /consent form is invalid/, `${name}: says why`)
    t.equal(upstreamRedirects(p).length, 0, `${name}: no redirect to the IdP`)
    t.equal(p.arrivals.length, 0, `${name}: nothing sent to the client`)
    const stored = await h.store.store.findTransaction(transaction)
    t.ok(stored, `${name}: the transaction is still pending`)
    t.equal(stored?.upstream, undefined, `${name}: nothing approved`)
  }
})

t.test('framed by another site, the consent page is refused by the browser (frame-ancestors none, X-Frame-Options DENY)', async t => {
  const p = await openPage()
  const start = await authorizeUrl()
  const framed = p.page.waitForResponse(r => r.url().startsWith(`${h.url}/authorize?`))
  await p.page.goto(`${elsewhere}/frame?to=${encodeURIComponent(start.url)}`)
  const response = await framed
  t.equal(response.status(), 200)
  t.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(response.headers()['x-frame-options'], 'DENY')
  await p.page.waitForLoadState('load')
  await p.page.waitForTimeout(300)
  const frame = p.page.frames().find(f => f !== p.page.mainFrame())
  t.ok(frame, 'the iframe exists')
  t.notOk(frame?.url().startsWith(h.url), `the frame did not load gatehouse (${frame?.url()})`)
  t.equal(await frame?.locator('button[name="decision"]').count(), 0, 'no consent form rendered in the frame')

  // Control: the same framing page shows a frameable form, so the check above can fail.
  await p.page.goto(`${elsewhere}/frame?to=${encodeURIComponent(`http://127.0.0.1:${elsewherePort}/frameable`)}`)
  await p.page.waitForLoadState('load')
  const control = p.page.frames().find(f => f !== p.page.mainFrame())
  await control?.waitForSelector('button[name="decision"]')
  t.equal(await control?.locator('button[name="decision"]').count(), 1, 'control: a frameable page does render')
})

t.test('DESIGN decision 8: a sign-in that finishes in a different browser than the one that consented gets an error page', async t => {
  const victim = await openPage()
  const start = await authorizeUrl()
  await victim.page.goto(start.url)
  await victim.page.click('button[value="allow"]')
  await victim.page.waitForSelector('input[name="password"]')
  const idpLoginPage = victim.page.url()

  // Another browser, with its own gatehouse binding cookie, carries on the IdP sign-in the victim started
  // (the IdP's cookies copied over; gatehouse's binding cookie stays the victim's).
  const other = await openPage()
  await other.page.goto((await authorizeUrl()).url)
  const ownBinding = (await other.context.cookies(h.url)).find(c => c.name === 'gatehouse-browser')
  const victimBinding = (await victim.context.cookies(h.url)).find(c => c.name === 'gatehouse-browser')
  t.ok(ownBinding !== undefined && victimBinding !== undefined && ownBinding.value !== victimBinding.value, 'two browsers, two bindings')
  await other.context.addCookies((await victim.context.cookies()).filter(c => !c.name.startsWith('gatehouse-')))
  await other.page.goto(idpLoginPage)
  const callback = other.page.waitForResponse(r => r.url().startsWith(`${h.url}/callback?`))
  await signInAtIdp(other.page)
  const response = await callback
  t.equal(response.status(), 403, 'the callback refuses the other browser')
  t.match(response.headers()['content-type'], /^text\/html/)
  t.equal(response.headers().location, undefined, 'no redirect to the client')
  await other.page.waitForLoadState()
  t.match(await other.page.innerText('main'), /different browser/)
  t.equal(other.arrivals.length, 0, 'no code reached a client redirect from the other browser')
  t.equal(victim.arrivals.length, 0)
})
