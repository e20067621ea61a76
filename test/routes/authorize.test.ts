// GET /authorize through app.inject: DESIGN decision 2 (never redirect before the client and the redirect
// URI are validated; after that, errors go back to the client with state and iss — RFC 6749 §4.1.2.1,
// RFC 9207), and the consent page's headers.
import t, { type Test } from 'tap'
import { buildTestApp } from '../support/app.ts'
import { s256 } from '../../src/oauth/pkce.ts'

const REDIRECT = 'https://client.example/cb'
const VERIFIER = 'v'.repeat(43)

async function setup (t: Test) {
  const { app, config } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: [REDIRECT, 'http://127.0.0.1/loopback'], token_endpoint_auth_method: 'none', client_name: 'Route Test' } })
  t.equal(res.statusCode, 201)
  const clientId: string = res.json().client_id
  const valid: Record<string, string> = {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: s256(VERIFIER),
    code_challenge_method: 'S256',
    state: 'st-123',
    scope: 'mcp:read',
    resource: `${config.publicUrl}/mcp`
  }
  const get = (params: Record<string, string | undefined>) => {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v)
    return app.inject({ method: 'GET', url: `/authorize?${q.toString()}`, headers: { 'sec-fetch-site': 'none' } })
  }
  return { app, config, clientId, valid, get }
}

t.test('DESIGN decision 2: an unknown client or unregistered redirect_uri gets an HTML error page (400), never a Location', async t => {
  const { valid, get } = await setup(t)
  // An unknown client is `invalid_client` (today a 401 page, as test/routes/cimd.test.ts pins); every
  // other case here is a 400. What matters for the decision is: a 4xx page and no Location.
  const cases: Array<[string, Record<string, string | undefined>, number | undefined]> = [
    ['unknown client_id', { ...valid, client_id: 'no-such-client' }, undefined],
    ['missing client_id', { ...valid, client_id: undefined }, undefined],
    // Found by the URL fuzzing: an id past the store's key size limit answered 500 (DynamoDB ValidationException).
    ['metadata URL client_id of 1500 bytes', { ...valid, client_id: `http://${'a'.repeat(1500)}.example:3000/mcp` }, undefined],
    ['registered-style client_id of 1100 bytes', { ...valid, client_id: 'c'.repeat(1100) }, undefined],
    ['unregistered redirect_uri', { ...valid, redirect_uri: 'https://evil.example/cb' }, 400],
    ['redirect_uri differing only by path', { ...valid, redirect_uri: `${REDIRECT}/x` }, 400],
    ['redirect_uri with a fragment', { ...valid, redirect_uri: `${REDIRECT}#frag` }, 400],
    ['redirect_uri missing with two registered', { ...valid, redirect_uri: undefined }, 400],
    ['loopback on another host', { ...valid, redirect_uri: 'http://localhost:8080/loopback' }, 400],
    // A loopback URI matches on any port (RFC 8252 §7.3), but only on a port that exists.
    ['loopback port 99999', { ...valid, redirect_uri: 'http://127.0.0.1:99999/loopback' }, 400],
    ['loopback port 65536', { ...valid, redirect_uri: 'http://127.0.0.1:65536/loopback' }, 400],
    ['loopback port 00080', { ...valid, redirect_uri: 'http://127.0.0.1:00080/loopback' }, 400],
    // Even when the other parameters are also wrong, the bad redirect URI wins: no redirect at all.
    ['bad redirect_uri and no PKCE', { ...valid, redirect_uri: 'https://evil.example/cb', code_challenge: undefined }, 400]
  ]
  for (const [name, params, status] of cases) {
    const res = await get(params)
    t.equal(res.headers.location, undefined, `${name}: no Location header`)
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${name}: a client error (${res.statusCode})`)
    if (status !== undefined) t.equal(res.statusCode, status, `${name}: status`)
    t.match(res.headers['content-type'], /^text\/html/, `${name}: an HTML page`)
    t.match(res.body, /This request cannot continue/, `${name}: the error page`)
    t.equal(res.headers['cache-control'], 'no-store', `${name}: no-store`)
    t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/, `${name}: no framing`)
    t.notMatch(res.body, /evil\.example/, `${name}: the page does not echo the attacker URI`)
  }
})

t.test('DESIGN decision 2: after validation, parameter errors are a 303 to the client with error, state and iss (RFC 9207)', async t => {
  const { valid, get, config } = await setup(t)
  const cases: Array<[string, Record<string, string | undefined>, string]> = [
    ['missing PKCE challenge', { ...valid, code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['missing PKCE method', { ...valid, code_challenge_method: undefined }, 'invalid_request'],
    ['plain PKCE (OAuth 2.1 §4.1.1)', { ...valid, code_challenge: VERIFIER, code_challenge_method: 'plain' }, 'invalid_request'],
    ['malformed challenge', { ...valid, code_challenge: 'short' }, 'invalid_request'],
    ['response_type token', { ...valid, response_type: 'token' }, 'unsupported_response_type'],
    // RFC 6749 §4.1.2.1: a missing required parameter is invalid_request; unsupported_response_type is
    // for a response_type the server does not support.
    ['response_type missing', { ...valid, response_type: undefined }, 'invalid_request'],
    ['unknown scope', { ...valid, scope: 'mcp:read admin' }, 'invalid_scope'],
    ['wrong resource (RFC 8707)', { ...valid, resource: 'https://other.example/mcp' }, 'invalid_target'],
    ['request object', { ...valid, request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
    ['fragment response_mode', { ...valid, response_mode: 'fragment' }, 'invalid_request']
  ]
  for (const [name, params, error] of cases) {
    const res = await get(params)
    t.equal(res.statusCode, 303, `${name}: 303`)
    const location = new URL(res.headers.location as string)
    t.equal(`${location.origin}${location.pathname}`, REDIRECT, `${name}: back to the registered redirect URI`)
    t.equal(location.searchParams.get('error'), error, `${name}: error`)
    t.equal(location.searchParams.get('state'), 'st-123', `${name}: state`)
    t.equal(location.searchParams.get('iss'), config.publicUrl, `${name}: iss`)
    t.notOk(location.searchParams.has('code'), `${name}: no code`)
    t.equal(res.headers['cache-control'], 'no-store', `${name}: no-store`)
  }
})

t.test('a valid request shows the consent page with strict headers; a loopback redirect URI matches on any port (RFC 8252 §7.3)', async t => {
  const { valid, get } = await setup(t)
  const res = await get(valid)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /Route Test/)
  t.match(res.body, /client\.example/)
  t.match(res.body, /mcp:read/)
  t.notMatch(res.body, /mcp:write/, 'only the asked-for scope is listed')
  t.match(res.body, /name="csrf_token" value="[A-Za-z0-9_-]{20,}"/)
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.match(res.headers['content-security-policy'], /default-src 'none'/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(String(res.headers['set-cookie']), /gatehouse-browser=[^;]+;.*HttpOnly/i, 'a browser binding cookie')

  const loopback = await get({ ...valid, redirect_uri: 'http://127.0.0.1:49152/loopback' })
  t.equal(loopback.statusCode, 200, 'loopback URI on another port shows consent')
})

t.test('consent POST without the right CSRF token is refused with an HTML page (403) and no redirect', async t => {
  const { app, valid, get } = await setup(t)
  const page = await get(valid)
  const transaction = /name="transaction" value="([^"]+)"/.exec(page.body)?.[1] as string
  const cookie = String(page.headers['set-cookie']).split(';')[0] as string
  for (const [name, csrf] of [['missing', undefined], ['wrong', 'x'.repeat(43)]] as const) {
    const form = new URLSearchParams({ transaction, decision: 'allow' })
    if (csrf !== undefined) form.set('csrf_token', csrf)
    const res = await app.inject({ method: 'POST', url: '/authorize/consent', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, payload: form.toString() })
    t.equal(res.statusCode, 403, `${name} CSRF token: 403`)
    t.equal(res.headers.location, undefined, `${name} CSRF token: no redirect`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(res.body, /access_denied/)
  }
  const badDecision = await app.inject({ method: 'POST', url: '/authorize/consent', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, payload: new URLSearchParams({ transaction, decision: 'maybe' }).toString() })
  t.equal(badDecision.statusCode, 400)
  t.match(badDecision.headers['content-type'], /^text\/html/)
})

t.test('the consent and callback routes answer malformed input with HTML pages, never JSON or 500', async t => {
  const { app } = await setup(t)
  const json = await app.inject({ method: 'POST', url: '/authorize/consent', headers: { 'content-type': 'application/json' }, payload: '{"transaction":"x"}' })
  t.ok(json.statusCode >= 400 && json.statusCode < 500, `JSON body refused (${json.statusCode})`)
  t.match(json.headers['content-type'], /^text\/html/)
  const repeated = await app.inject({ method: 'POST', url: '/authorize/consent', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'transaction=a&transaction=b&decision=allow' })
  t.equal(repeated.statusCode, 400, 'a repeated form field is refused')
  t.match(repeated.headers['content-type'], /^text\/html/)
  const callback = await app.inject({ method: 'GET', url: '/callback?code=x' })
  t.equal(callback.statusCode, 400)
  t.match(callback.headers['content-type'], /^text\/html/)
  t.equal(callback.headers.location, undefined)
  const unknownState = await app.inject({ method: 'GET', url: '/callback?code=x&state=nope' })
  t.equal(unknownState.statusCode, 400)
  t.equal(unknownState.headers.location, undefined)
  const longParam = await app.inject({ method: 'GET', url: `/authorize?client_id=${'a'.repeat(5000)}` })
  t.equal(longParam.statusCode, 400)
  t.match(longParam.headers['content-type'], /^text\/html/)
  t.equal(longParam.headers.location, undefined)
})

t.test('/authorize is rate-limited per address and answers 429 as an HTML page', async t => {
  const { app } = await buildTestApp(t)
  let last
  for (let i = 0; i < 121; i++) last = await app.inject({ method: 'GET', url: '/authorize?client_id=nobody', remoteAddress: '198.51.100.7' })
  t.equal(last?.statusCode, 429)
  t.match(last?.headers['content-type'], /text\/html/)
  t.notOk(last?.headers.location, 'never a redirect')
  const other = await app.inject({ method: 'GET', url: '/authorize?client_id=nobody', remoteAddress: '198.51.100.8' })
  t.not(other.statusCode, 429, 'another address has its own budget')
})

t.test('HTML error pages from schema failures and rate limits carry the consent page\'s headers (no framing, no referrer)', async t => {
  const { app } = await setup(t)
  const schema = await app.inject({ method: 'GET', url: `/authorize?client_id=${'a'.repeat(5000)}` })
  const repeated = await app.inject({ method: 'GET', url: '/authorize?client_id=a&client_id=b' })
  let limited
  for (let i = 0; i < 121; i++) limited = await app.inject({ method: 'GET', url: '/authorize?client_id=nobody', remoteAddress: '198.51.100.9' })
  for (const [name, res] of [['schema failure', schema], ['repeated parameter', repeated], ['429', limited]] as const) {
    t.ok(res !== undefined && res.statusCode >= 400 && res.statusCode < 500, `${name}: a client error`)
    t.match(res?.headers['content-type'], /^text\/html/, `${name}: HTML`)
    t.match(res?.headers['content-security-policy'], /frame-ancestors 'none'/, `${name}: CSP frame-ancestors`)
    t.equal(res?.headers['x-frame-options'], 'DENY', `${name}: X-Frame-Options`)
    t.equal(res?.headers['referrer-policy'], 'no-referrer', `${name}: Referrer-Policy`)
    t.equal(res?.headers['cache-control'], 'no-store', `${name}: no-store`)
  }
})

t.test('every refused request is logged with its error and error_description (and never the request\'s secrets)', async t => {
  const logLines: string[] = []
  const { app } = await buildTestApp(t, { logLines })
  await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/json, application/x-www-form-urlencoded' }, payload: 'grant_type=authorization_code&code=secret-code-value' })
  await app.inject({ method: 'GET', url: '/authorize?client_id=nobody' })
  const refused = logLines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.msg === 'request refused')
  t.ok(refused.length >= 2, 'both refusals logged')
  const token = refused.find(l => l.error === 'invalid_request')
  t.match(token?.error_description, /content type/, 'the reason a /token request was refused is in the log')
  t.ok(refused.every(l => typeof l.error === 'string' && typeof l.error_description === 'string'), 'error and error_description on every refusal')
  t.notMatch(logLines.join('\n'), /secret-code-value/, 'the code is not logged')
})

t.test('MCP 2026-07-28 security considerations ("Localhost Redirect URI Risks"): the consent page warns when every redirect URI is on localhost', async t => {
  const { app, config, valid, get } = await setup(t)
  const mixed = await get(valid)
  t.notMatch(mixed.body, /role="alert"/, 'a client with an https redirect URI gets no warning')
  for (const uris of [['http://127.0.0.1:33418/cb'], ['http://localhost/cb', 'http://[::1]:9/cb']]) {
    const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: uris, token_endpoint_auth_method: 'none', client_name: 'Local Tool' } })
    t.equal(res.statusCode, 201)
    const page = await get({ ...valid, client_id: res.json().client_id, redirect_uri: uris[0] as string, resource: `${config.publicUrl}/mcp` })
    t.equal(page.statusCode, 200)
    t.match(page.body, /<p class="warning" role="alert"><strong>Warning:<\/strong> this application only returns to your own computer \(localhost\)/, uris.join(' '))
    t.match(page.body, /Local Tool/)
  }
})
