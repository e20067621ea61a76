// POST /register (RFC 7591) through app.inject: the client information response, hashed secrets,
// DESIGN decision 5's redirect URI rules, metadata errors (§3.2.2), malformed bodies and the rate limit.
import t, { type Test } from 'tap'
import { buildTestApp } from '../support/app.ts'
import { sha256 } from '../../src/oauth/secrets.ts'

const JSON_HEADERS = { 'content-type': 'application/json' }

function assertOAuthError (t: Test, res: { statusCode: number, headers: Record<string, unknown>, json: () => any }, status: number, error: string, name: string): void {
  t.equal(res.statusCode, status, `${name}: status`)
  t.match(res.headers['content-type'], /^application\/json/, `${name}: JSON`)
  t.equal(res.json().error, error, `${name}: error`)
  t.type(res.json().error_description, 'string', `${name}: error_description`)
  t.equal(res.headers['cache-control'], 'no-store', `${name}: no-store`)
}

t.test('RFC 7591 §3.2.1: a public client gets the full client information response and no secret', async t => {
  const { app, store } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['http://127.0.0.1:33418/cb', 'vscode://gatehouse/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'Public One', scope: 'mcp:read', software_id: 'sw', software_version: '1.0', client_uri: 'https://client.example', logo_uri: 'https://client.example/logo.png', unknown_field: 'ignored' } })
  t.equal(res.statusCode, 201)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.type(body.client_id, 'string')
  t.ok(body.client_id.length >= 20, 'an unguessable client id')
  t.type(body.client_id_issued_at, 'number')
  t.ok(Math.abs(body.client_id_issued_at - Date.now() / 1000) < 60, 'issued now, in seconds')
  t.same(body.redirect_uris, ['http://127.0.0.1:33418/cb', 'vscode://gatehouse/cb'])
  t.equal(body.token_endpoint_auth_method, 'none')
  t.same(body.grant_types, ['authorization_code', 'refresh_token'])
  t.same(body.response_types, ['code'])
  t.equal(body.client_name, 'Public One')
  t.equal(body.scope, 'mcp:read')
  t.equal(body.software_id, 'sw')
  t.equal(body.software_version, '1.0')
  t.equal(body.client_uri, 'https://client.example/')
  t.equal(body.logo_uri, 'https://client.example/logo.png')
  t.notOk('client_secret' in body, 'no secret for a public client')
  t.notOk('client_secret_expires_at' in body)
  t.notOk('unknown_field' in body, 'unknown metadata is ignored (§2)')
  const stored = await store.store.findClient(body.client_id)
  t.equal(stored?.tokenEndpointAuthMethod, 'none')
  t.equal(stored?.clientSecretHash, undefined)
})

t.test('RFC 7591 §3.2.1: a confidential client gets a secret that is stored only as a hash; defaults apply', async t => {
  const { app, store } = await buildTestApp(t)
  for (const method of ['client_secret_basic', 'client_secret_post', undefined]) {
    const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['https://client.example/cb'], ...(method === undefined ? {} : { token_endpoint_auth_method: method }) } })
    t.equal(res.statusCode, 201, String(method))
    const body = res.json()
    t.equal(body.token_endpoint_auth_method, method ?? 'client_secret_basic', 'RFC 7591 §2 default is client_secret_basic')
    t.same(body.grant_types, ['authorization_code'], 'default grant_types')
    t.same(body.response_types, ['code'], 'default response_types')
    t.type(body.client_secret, 'string')
    t.ok(body.client_secret.length >= 40, 'a long random secret')
    t.equal(body.client_secret_expires_at, 0, 'does not expire')
    const stored = await store.store.findClient(body.client_id)
    t.type(stored?.clientSecretHash, 'string')
    t.not(stored?.clientSecretHash, body.client_secret, 'the raw secret is not stored')
    t.equal(stored?.clientSecretHash, sha256(body.client_secret), 'stored as its SHA-256 hash')
    t.notMatch(JSON.stringify(stored), body.client_secret, 'the secret appears nowhere in the stored item')
  }
})

t.test('DESIGN decision 5: unacceptable redirect URIs are invalid_redirect_uri (RFC 7591 §3.2.2)', async t => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, unknown]> = [
    ['http on a non-loopback host', ['http://client.example/cb']],
    ['javascript:', ['javascript:alert(1)']],
    ['data:', ['data:text/html,<script>alert(1)</script>']],
    ['file:', ['file:///etc/passwd']],
    ['a fragment', ['https://client.example/cb#frag']],
    ['an empty fragment', ['https://client.example/cb#']],
    ['a wildcard host', ['https://*.client.example/cb']],
    ['a wildcard path', ['https://client.example/*']],
    ['an unknown private-use scheme', ['myapp://callback']],
    ['user information', ['https://user:pass@client.example/cb']],
    ['a relative URI', ['/cb']],
    ['none at all', []],
    ['missing', undefined],
    ['one good, one bad', ['https://client.example/cb', 'http://evil.example/cb']],
    ['too many', Array.from({ length: 11 }, (_, i) => `https://client.example/cb${i}`)]
  ]
  for (const [name, uris] of cases) {
    const res = await app.inject({ method: 'POST', url: '/register', payload: { ...(uris === undefined ? {} : { redirect_uris: uris }), token_endpoint_auth_method: 'none' } })
    assertOAuthError(t, res, 400, 'invalid_redirect_uri', name)
  }
  for (const uri of ['https://client.example/cb?x=1', 'http://localhost:8080/cb', 'http://[::1]/cb', 'cursor://anysphere.cursor-retrieval/oauth/cb', 'vscode-insiders://cb']) {
    const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: [uri], token_endpoint_auth_method: 'none' } })
    t.equal(res.statusCode, 201, `${uri} is accepted`)
  }
})

t.test('RFC 7591 §3.2.2: unsupported grant types, response types and auth methods are invalid_client_metadata', async t => {
  const { app } = await buildTestApp(t)
  const good = { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none' }
  const cases: Array<[string, Record<string, unknown>]> = [
    ['implicit grant', { grant_types: ['implicit'] }],
    ['password grant', { grant_types: ['authorization_code', 'password'] }],
    ['client_credentials grant', { grant_types: ['client_credentials'] }],
    ['refresh only', { grant_types: ['refresh_token'] }],
    ['grant_types not an array', { grant_types: 'authorization_code' }],
    ['response_type token', { response_types: ['token'] }],
    ['response_types code and token', { response_types: ['code', 'token'] }],
    ['private_key_jwt', { token_endpoint_auth_method: 'private_key_jwt' }],
    ['tls_client_auth', { token_endpoint_auth_method: 'tls_client_auth' }],
    ['auth method not a string', { token_endpoint_auth_method: 1 }],
    ['unknown scope', { scope: 'mcp:read admin' }],
    ['client_name not a string', { client_name: { x: 1 } }],
    ['client_name with control characters', { client_name: 'a\u0000b' }],
    ['http logo_uri', { logo_uri: 'http://client.example/logo.png' }],
    ['javascript client_uri', { client_uri: 'javascript:alert(1)' }]
  ]
  for (const [name, extra] of cases) {
    const res = await app.inject({ method: 'POST', url: '/register', payload: { ...good, ...extra } })
    assertOAuthError(t, res, 400, 'invalid_client_metadata', name)
  }
})

t.test('malformed or non-JSON bodies are 400 OAuth error JSON, never a 500', async t => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, Record<string, string>, string | undefined]> = [
    ['truncated JSON', JSON_HEADERS, '{"redirect_uris": ['],
    ['not JSON at all', JSON_HEADERS, 'hello'],
    ['empty body', JSON_HEADERS, ''],
    ['JSON null', JSON_HEADERS, 'null'],
    ['JSON array', JSON_HEADERS, '[{"redirect_uris":["https://client.example/cb"]}]'],
    ['JSON string', JSON_HEADERS, '"x"'],
    ['JSON number', JSON_HEADERS, '42'],
    ['prototype pollution', JSON_HEADERS, '{"__proto__":{"redirect_uris":["https://client.example/cb"]}}'],
    ['form-encoded', { 'content-type': 'application/x-www-form-urlencoded' }, 'redirect_uris=https%3A%2F%2Fclient.example%2Fcb'],
    ['text/plain', { 'content-type': 'text/plain' }, '{"redirect_uris":["https://client.example/cb"]}'],
    ['unknown content type', { 'content-type': 'application/xml' }, '<x/>'],
    ['no content type', {}, '{"redirect_uris":["https://client.example/cb"]}'],
    ['a bad charset', { 'content-type': 'application/json; charset=utf-7' }, '{}']
  ]
  for (const [name, headers, payload] of cases) {
    const res = await app.inject({ method: 'POST', url: '/register', headers, ...(payload === undefined ? {} : { payload }) })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${name}: a client error (${res.statusCode})`)
    t.match(res.headers['content-type'], /^application\/json/, `${name}: JSON`)
    const body = res.json()
    t.match(body.error, /^(invalid_request|invalid_client_metadata|invalid_redirect_uri)$/, `${name}: an OAuth error code (${body.error})`)
    t.type(body.error_description, 'string', `${name}: a description`)
    t.notMatch(res.body, /at .*\.ts:\d+|stack/i, `${name}: nothing internal`)
  }
})

t.test('a 10 MB body is refused with 413 and OAuth error JSON', async t => {
  const { app } = await buildTestApp(t)
  const big = JSON.stringify({ redirect_uris: ['https://client.example/cb'], client_name: 'x'.repeat(10 * 1024 * 1024) })
  const res = await app.inject({ method: 'POST', url: '/register', headers: JSON_HEADERS, payload: big })
  t.equal(res.statusCode, 413)
  t.match(res.headers['content-type'], /^application\/json/)
  t.equal(res.json().error, 'invalid_request')
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('registration is rate limited per client address: 20 a minute, then 429 with OAuth JSON', async t => {
  const { app } = await buildTestApp(t)
  const register = (remoteAddress: string, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/register', remoteAddress, headers, payload: { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none' } })
  for (let i = 0; i < 20; i++) {
    const res = await register('192.0.2.10')
    t.equal(res.statusCode, 201, `registration ${i + 1} is allowed`)
  }
  const limited = await register('192.0.2.10')
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['content-type'], /^application\/json/)
  t.equal(limited.json().error, 'too_many_requests')
  t.type(limited.json().error_description, 'string')
  t.ok(limited.headers['retry-after'], 'Retry-After')
  t.equal(limited.headers['cache-control'], 'no-store')

  // A client cannot reset its budget by claiming another address in X-Forwarded-For.
  const spoofed = await register('192.0.2.10', { 'x-forwarded-for': '198.51.100.7' })
  t.equal(spoofed.statusCode, 429, 'a spoofed X-Forwarded-For does not escape the limit')

  const other = await register('192.0.2.11')
  t.equal(other.statusCode, 201, 'another address has its own budget')
})

t.test('MCP 2026-07-28 (SEP-837) / OpenID Connect Registration §2: application_type is kept and echoed; other values are invalid_client_metadata', async t => {
  const { app, store } = await buildTestApp(t)
  for (const type of ['native', 'web'] as const) {
    const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['http://127.0.0.1:33418/cb'], token_endpoint_auth_method: 'none', application_type: type } })
    t.equal(res.statusCode, 201, type)
    t.equal(res.json().application_type, type, `${type}: echoed`)
    t.equal((await store.store.findClient(res.json().client_id))?.applicationType, type, `${type}: kept`)
  }
  const none = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['http://127.0.0.1:33418/cb'], token_endpoint_auth_method: 'none' } })
  t.notOk('application_type' in none.json(), 'absent stays absent')
  const bad = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['http://127.0.0.1:33418/cb'], token_endpoint_auth_method: 'none', application_type: 'desktop' } })
  assertOAuthError(t, bad, 400, 'invalid_client_metadata', 'application_type desktop')
})
