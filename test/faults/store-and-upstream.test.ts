// Faults in the middle of the flow. The store: a loopback TCP proxy between the DynamoDB client and the
// emulator, switched to drop (connections reset) or hang (bytes black-holed) while the app serves; the app's
// DynamoStore has a small deadline. Every step must answer a clear 503 within a bound, write nothing half-way,
// and succeed when the store is back. The upstream IdP: an HTTP stand-in for its token endpoint that is down,
// slow, answers 500 or garbage, or returns an ID token with a bad signature — each must end in a clean redirect to the
// client with an OAuth error, never a 500 or a stack trace.
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { CookieJar, formSubmission, loginThroughForm } from '../support/browserless-login.ts'
import { postForm, registerClient, startHarness, CLIENT_REDIRECT, type Harness } from '../support/oauth-harness.ts'
import { startTestStore } from '../support/store.ts'
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../support/tcp-proxy.ts'
import { freePort } from '../support/app.ts'
import { startDevIdpProcess } from '../support/dev-idp.ts'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { SYSTEM_CLOCK } from '../../src/ports/clock.ts'
import * as oauth from 'oauth4webapi'
import { generateKeyPairSync, sign } from 'node:crypto'

const STORE_TIMEOUT_MS = 400
/** The deadline plus generous room for a loaded CI machine; a hang would blow far past it. */
const BOUND_MS = STORE_TIMEOUT_MS + 1600

async function storeHarness (t: Test): Promise<{ h: Harness, proxy: TcpProxy, scan: () => Promise<Record<string, number>> }> {
  const testStore = await startTestStore(t)
  const proxy = await startTcpProxy({ port: Number(new URL(testStore.endpoint).port) })
  t.teardown(() => proxy.close())
  const client = createDynamoClient({ region: 'us-east-1', endpoint: proxy.url, timeoutMs: STORE_TIMEOUT_MS, maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const store = new DynamoStore({ client, table: testStore.table, clock: SYSTEM_CLOCK, timeoutMs: STORE_TIMEOUT_MS })
  const h = await startHarness(t, { store: testStore, services: { store }, env: { GRANT_CACHE_TTL: '0' } })
  // Straight to the emulator, around the proxy: what is really stored.
  const direct = createDynamoClient({ region: 'us-east-1', endpoint: testStore.endpoint })
  t.teardown(() => direct.destroy())
  const scan = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {}
    for (const item of (await direct.send(new ScanCommand({ TableName: testStore.table }))).Items ?? []) counts[item.kind?.S ?? '?'] = (counts[item.kind?.S ?? '?'] ?? 0) + 1
    return counts
  }
  return { h, proxy, scan }
}

/**
 * The store is back once a request through the app's own client gets through (/healthz reads the store):
 * a pooled connection the outage left behind, or a first request slowed past the short deadline by a loaded
 * machine, is spent on this probe, not on the step the test checks next.
 */
async function storeBack (h: Harness, proxy: TcpProxy): Promise<void> {
  proxy.setMode('pass')
  const until = performance.now() + 5000
  while ((await fetch(`${h.url}/healthz`)).status !== 200) {
    if (performance.now() > until) throw new Error('the store did not come back through the proxy within 5 s')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function timed<T> (run: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await run()
  return { value, ms: performance.now() - started }
}

async function get (url: string, cookies?: CookieJar): Promise<{ status: number, type: string, body: string, location: string | null }> {
  const cookie = cookies?.header(new URL(url))
  const res = await fetch(url, { redirect: 'manual', headers: { 'sec-fetch-site': 'cross-site', ...(cookie === undefined ? {} : { cookie }) } })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text(), location: res.headers.get('location') }
}

function authorizeUrl (h: Harness, clientId: string, challenge: string): string {
  const q = new URLSearchParams({ client_id: clientId, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 'st', resource: `${h.url}/mcp` })
  return `${h.url}/authorize?${q.toString()}`
}

/** Walks consent and the IdP login, stopping before the callback: the URL the IdP sends the browser to. */
async function upToCallback (h: Harness, clientId: string): Promise<{ callback: URL, cookies: CookieJar, verifier: string }> {
  const verifier = oauth.generateRandomCodeVerifier()
  const { url, cookies } = await loginThroughForm(authorizeUrl(h, clientId, await oauth.calculatePKCECodeChallenge(verifier)), 'alice', 'alice', {
    stopAt: `${h.url}/callback`,
    headers: { 'sec-fetch-site': 'none' },
    onForm: (html, pageUrl) => html.includes('name="decision"') ? formSubmission(html, pageUrl, { button: { name: 'decision', value: 'allow' } }) : undefined
  })
  return { callback: url, cookies, verifier }
}

function isCleanPage (page: { status: number, type: string, body: string }): boolean {
  return page.status === 503 && page.type.startsWith('text/html') && page.body.includes('temporarily_unavailable') && !/\bat .+\.ts:\d+/.test(page.body)
}

for (const mode of ['drop', 'hang'] as ProxyMode[]) {
  t.test(`store ${mode === 'drop' ? 'unreachable' : 'hanging'} during authorize, callback, token, refresh, revoke and /mcp: 503 within ${BOUND_MS} ms, nothing half-written, and the flow completes once it is back`, async t => {
    const { h, proxy, scan } = await storeHarness(t)
    const c = await registerClient(h)

    // /authorize
    proxy.setMode(mode)
    const page = await timed(() => get(authorizeUrl(h, c.client.client_id, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')))
    t.ok(isCleanPage(page.value), `/authorize: HTML 503 temporarily_unavailable (got ${page.value.status})`)
    t.ok(page.ms < BOUND_MS, `/authorize answered in ${Math.round(page.ms)} ms`)
    await storeBack(h, proxy)

    // /callback: the browser comes back from the IdP while the store is out.
    const before = await scan()
    const { callback, cookies, verifier } = await upToCallback(h, c.client.client_id)
    proxy.setMode(mode)
    const failed = await timed(() => get(callback.href, cookies))
    t.ok(isCleanPage(failed.value), `/callback: HTML 503 temporarily_unavailable (got ${failed.value.status})`)
    t.ok(failed.ms < BOUND_MS, `/callback answered in ${Math.round(failed.ms)} ms`)
    await storeBack(h, proxy)
    const afterFailure = await scan()
    t.equal(afterFailure.code ?? 0, before.code ?? 0, 'no code was stored by the failed callback')
    t.equal(afterFailure.grant ?? 0, before.grant ?? 0, 'no grant either')
    const back = await get(callback.href, cookies)
    t.equal(back.status, 303, 'the same callback succeeds once the store is back')
    const redirect = new URL(back.location as string)
    const code = redirect.searchParams.get('code') as string
    t.ok(code, 'and the client gets its code')

    // /token (authorization_code)
    const fields = { grant_type: 'authorization_code', code, redirect_uri: CLIENT_REDIRECT, code_verifier: verifier, client_id: c.client.client_id }
    proxy.setMode(mode)
    const tokenFail = await timed(() => postForm(h.as.token_endpoint as string, fields))
    t.equal(tokenFail.value.status, 503, '/token: 503')
    t.equal(tokenFail.value.body.error, 'temporarily_unavailable', '/token: temporarily_unavailable')
    t.equal(tokenFail.value.headers.get('retry-after'), '5', '/token: Retry-After')
    t.ok(tokenFail.ms < BOUND_MS, `/token answered in ${Math.round(tokenFail.ms)} ms`)
    await storeBack(h, proxy)
    const mid = await scan()
    t.equal(mid.grant ?? 0, before.grant ?? 0, 'no half-written grant')
    t.equal(mid.refresh_token ?? 0, before.refresh_token ?? 0, 'no orphaned refresh token')
    const tokens = await postForm(h.as.token_endpoint as string, fields)
    t.equal(tokens.status, 200, 'the code still redeems once the store is back')

    // /token (refresh_token)
    const refreshFields = { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: c.client.client_id }
    proxy.setMode(mode)
    const refreshFail = await timed(() => postForm(h.as.token_endpoint as string, refreshFields))
    t.equal(refreshFail.value.body.error, 'temporarily_unavailable', 'refresh: temporarily_unavailable')
    t.ok(refreshFail.ms < BOUND_MS, `refresh answered in ${Math.round(refreshFail.ms)} ms`)
    await storeBack(h, proxy)
    const refreshed = await postForm(h.as.token_endpoint as string, refreshFields)
    t.equal(refreshed.status, 200, 'the same refresh token rotates once the store is back (the failed try did not use it up)')

    // /mcp
    const mcp = (): Promise<Response> => fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${refreshed.body.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) })
    proxy.setMode(mode)
    const mcpFail = await timed(async () => { const r = await mcp(); return { status: r.status, body: await r.json() as { error?: string } } })
    t.equal(mcpFail.value.status, 503, '/mcp: 503')
    t.equal(mcpFail.value.body.error, 'temporarily_unavailable', '/mcp: temporarily_unavailable')
    t.ok(mcpFail.ms < BOUND_MS, `/mcp answered in ${Math.round(mcpFail.ms)} ms`)
    await storeBack(h, proxy)
    t.equal((await mcp()).status, 200, '/mcp works again')

    // /revoke
    const revokeFields = { token: refreshed.body.refresh_token, client_id: c.client.client_id }
    proxy.setMode(mode)
    const revokeFail = await timed(() => postForm(h.as.revocation_endpoint as string, revokeFields))
    t.equal(revokeFail.value.body.error, 'temporarily_unavailable', '/revoke: temporarily_unavailable (the client must retry: nothing was revoked)')
    t.ok(revokeFail.ms < BOUND_MS, `/revoke answered in ${Math.round(revokeFail.ms)} ms`)
    await storeBack(h, proxy)
    t.equal((await postForm(h.as.revocation_endpoint as string, revokeFields)).status, 200, '/revoke works again')
    t.equal((await mcp()).status, 401, 'and the revocation took effect')

    const health = await fetch(`${h.url}/healthz`)
    t.equal(health.status, 200, 'healthy again')
  })
}

/** An HTTP stand-in for the IdP's token endpoint: forwards to the real one, or misbehaves on demand. */
type UpstreamMode = 'down' | 'slow' | 'error' | 'bad-signature' | 'garbage'

async function upstreamStandIn (issuer: string, clientId: string): Promise<{ url: string, setMode: (m: UpstreamMode) => void, hits: () => number, close: () => Promise<void> }> {
  let mode: UpstreamMode = 'bad-signature'
  let hits = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits++
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        if (mode === 'down') { req.socket.destroy(); return }
        if (mode === 'slow') return // never answers; gatehouse's upstream timeout must end the wait
        if (mode === 'error') { res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1>'); return }
        if (mode === 'garbage') { res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":'); return }
        // bad-signature: a well-formed token response whose ID token names the real issuer and client but is
        // signed by a key the IdP never published.
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
        const now = Math.floor(Date.now() / 1000)
        const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
        const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'not-a-published-key' })}.${b64({ iss: issuer, aud: clientId, sub: 'mallory', iat: now, exp: now + 300 })}`
        const idToken = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'upstream-at', token_type: 'Bearer', expires_in: 300, id_token: idToken }))
      })()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/token`,
    setMode: m => { mode = m },
    hits: () => hits,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

t.test('upstream IdP down, slow, failing, answering garbage or signing badly: a clean error redirect to the client, never a 500', async t => {
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const idp = await startDevIdpProcess({ redirectUris: [`${publicUrl}/callback`] })
  t.teardown(() => idp.stop())
  const standIn = await upstreamStandIn(idp.issuer, idp.clientId)
  t.teardown(() => standIn.close())
  const h = await startHarness(t, { port, env: { UPSTREAM_TOKEN_ENDPOINT: standIn.url, UPSTREAM_TIMEOUT_MS: '500' } } as never)
  const c = await registerClient(h)
  const expected: Record<UpstreamMode, string[]> = {
    down: ['temporarily_unavailable', 'server_error'],
    slow: ['temporarily_unavailable', 'server_error'],
    error: ['temporarily_unavailable', 'server_error'],
    garbage: ['temporarily_unavailable', 'server_error'],
    'bad-signature': ['server_error', 'temporarily_unavailable', 'access_denied']
  }
  for (const [mode, errors] of Object.entries(expected) as Array<[UpstreamMode, string[]]>) {
    const hitsBefore = standIn.hits()
    const { callback, cookies } = await upToCallback(h, c.client.client_id)
    standIn.setMode(mode)
    const answer = await timed(() => get(callback.href, cookies))
    t.ok(standIn.hits() > hitsBefore, `${mode}: the token request reached the misbehaving endpoint`)
    t.equal(answer.value.status, 303, `${mode}: a redirect, not ${answer.value.status}`)
    const back = new URL(answer.value.location ?? 'about:blank')
    t.ok(back.href.startsWith(CLIENT_REDIRECT), `${mode}: back to the client's redirect URI`)
    t.ok(errors.includes(back.searchParams.get('error') ?? ''), `${mode}: error=${back.searchParams.get('error')}`)
    t.equal(back.searchParams.get('code'), null, `${mode}: no code`)
    t.equal(back.searchParams.get('state'), 'st', `${mode}: state echoed`)
    t.equal(back.searchParams.get('iss'), h.url, `${mode}: iss`)
    t.notMatch(back.searchParams.get('error_description') ?? '', /\.ts:\d+|Error:|at /, `${mode}: no internals in the description`)
    t.ok(answer.ms < 3000, `${mode}: answered in ${Math.round(answer.ms)} ms`)
  }
  // The IdP itself says no (error=access_denied on the callback).
  const { callback, cookies } = await upToCallback(h, c.client.client_id)
  const denied = new URL(callback)
  denied.searchParams.delete('code')
  denied.searchParams.set('error', 'access_denied')
  const answer = await get(denied.href, cookies)
  t.equal(new URL(answer.location ?? 'about:blank').searchParams.get('error'), 'access_denied', 'an IdP refusal becomes access_denied at the client')
  const health = await fetch(`${h.url}/healthz`)
  t.equal(health.status, 200, 'the app is healthy after every upstream fault')
})
