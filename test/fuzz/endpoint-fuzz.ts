// Property-based fuzzing of every gatehouse endpoint on a running server (real loopback HTTP, raw bytes).
// The property, for every generated request:
//   - an answer comes (no hang) within a bound, and it is never a 5xx;
//   - the answer is the endpoint's standard format: RFC 6749 JSON errors with no-store on the JSON OAuth
//     endpoints, the HTML error page on the browser endpoints, JSON-RPC or Bearer-challenge errors on /mcp,
//     and a redirect only ever to a registered redirect URI;
//   - the store changed only the way that answer allows (a 201 from /register adds one client, a consent page
//     adds one transaction, a 200 tool call may add dataset rows; nothing else writes anything).
// A final table scan checks that the store holds exactly the records those answers account for.
import fc from 'fast-check'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import type { Test } from 'tap'
import { buildTestApp } from '../support/app.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import type { Services } from '../../src/compose.ts'
import { mintGrant, registerTestClient } from '../security/mint.ts'
import { rawRequest, type RawOutcome, type RawRequest } from './raw-http.ts'

// ── the store, watched ─────────────────────────────────────────────────────────

const CREATES = ['saveClient', 'saveTransaction', 'saveCode', 'saveGrant', 'saveRefreshToken', 'saveConsent', 'putDatasetRecord'] as const
const MUTATES = ['markTransactionApproved', 'consumeTransaction', 'consumeCode', 'releaseCode', 'markRefreshTokenUsed', 'revokeGrant', 'rotateRefreshToken'] as const

/** Wraps the real store and records every write that took effect. */
function watchStore (store: Services['store']): { store: Services['store'], effects: string[], pending: () => number } {
  const effects: string[] = []
  let pending = 0
  const proxy = new Proxy(store, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function') return value
      const name = String(property)
      const bound = (value as (...args: unknown[]) => unknown).bind(target)
      const watched = (CREATES as readonly string[]).includes(name) || (MUTATES as readonly string[]).includes(name)
      return async (...args: unknown[]) => {
        pending++
        let result: unknown
        try { result = await bound(...args) } finally { pending-- }
        if (!watched) return result
        const effective = name === 'consumeTransaction' ? result !== undefined
          : (name === 'markTransactionApproved' || name === 'consumeCode' || name === 'markRefreshTokenUsed' || name === 'rotateRefreshToken') ? (result as { won: boolean }).won
          : true
        if (effective) effects.push(name)
        return result
      }
    }
  })
  return { store: proxy, effects, pending: () => pending }
}

// ── the running app and its fixtures ─────────────────────────────────────────────

const REDIRECT = 'http://127.0.0.1:53682/cb'
const HTTPS_REDIRECT = 'https://client.example/cb'

export interface FuzzTarget {
  port: number
  url: string
  effects: string[]
  /** Resolves true once the server has finished every request it received (false after `timeoutMs`). */
  settled (timeoutMs: number): Promise<boolean>
  pool: {
    clientIds: string[]
    confidential: { id: string, secret: string }
    accessToken: string
    readOnlyToken: string
  }
  countItems (): Promise<Record<string, number>>
}

async function startTarget (t: Test): Promise<FuzzTarget> {
  const { startTestStore } = await import('../support/store.ts')
  const testStore = await startTestStore(t)
  const watched = watchStore(testStore.store)
  const { app, url } = await buildTestApp(t, { listen: true, store: testStore, services: { store: watched.store } })
  const port = Number(new URL(url).port)
  // Requests the server is still working on (a client that hung up early does not stop the handler).
  let inFlight = 0
  app.server.on('request', (_request, response) => { inFlight++; response.once('close', () => { inFlight-- }) })
  // The token's own client is kept out of the form pool so a fuzzed /revoke can never end its grant.
  const tokenClient = await registerTestClient(app)
  const minted = await mintGrant(app, tokenClient.clientId)
  const readOnly = await mintGrant(app, tokenClient.clientId, { scope: ['mcp:read'], identity: { sub: 'user-bob', groups: [] } })
  const pub = await registerTestClient(app, { redirect_uris: [REDIRECT, HTTPS_REDIRECT] })
  const conf = await registerTestClient(app, { token_endpoint_auth_method: 'client_secret_basic' })
  const scanClient = createDynamoClient({ region: 'us-east-1', endpoint: testStore.endpoint })
  t.teardown(() => scanClient.destroy())
  watched.effects.length = 0
  return {
    port,
    url,
    effects: watched.effects,
    async settled (timeoutMs) {
      const until = Date.now() + timeoutMs
      // Quiet = no open response and no store call running, twice in a row across a macrotask (a handler
      // between two store calls is only ever a few microtasks away from the next one).
      let quiet = 0
      while (quiet < 2) {
        if (Date.now() > until) return false
        await new Promise(resolve => setImmediate(resolve))
        quiet = inFlight === 0 && watched.pending() === 0 ? quiet + 1 : 0
      }
      return true
    },
    pool: {
      clientIds: [pub.clientId, conf.clientId, 'https://127.0.0.1/client.json', 'https://localhost:1/cimd', 'https://10.0.0.1/x'],
      confidential: { id: conf.clientId, secret: conf.clientSecret as string },
      accessToken: minted.accessToken,
      readOnlyToken: readOnly.accessToken
    },
    async countItems () {
      const counts: Record<string, number> = {}
      let start: Record<string, any> | undefined
      do {
        const page = await scanClient.send(new ScanCommand({ TableName: testStore.table, ProjectionExpression: 'kind', ...(start === undefined ? {} : { ExclusiveStartKey: start }) }))
        for (const item of page.Items ?? []) {
          const kind = item.kind?.S ?? 'unknown'
          counts[kind] = (counts[kind] ?? 0) + 1
        }
        start = page.LastEvaluatedKey
      } while (start !== undefined)
      return counts
    }
  }
}

// ── generators ──────────────────────────────────────────────────────────────

type Kind = 'oauth' | 'html' | 'mcp' | 'public'

interface Endpoint { path: string, method: string, kind: Kind, params: string[], body: 'form' | 'json' | 'none' }

const ENDPOINTS: Endpoint[] = [
  { path: '/authorize', method: 'GET', kind: 'html', body: 'none', params: ['client_id', 'redirect_uri', 'response_type', 'code_challenge', 'code_challenge_method', 'scope', 'state', 'resource', 'response_mode', 'prompt', 'request', 'request_uri'] },
  { path: '/authorize/consent', method: 'POST', kind: 'html', body: 'form', params: ['transaction', 'csrf_token', 'decision'] },
  { path: '/callback', method: 'GET', kind: 'html', body: 'none', params: ['state', 'code', 'error', 'error_description', 'iss'] },
  { path: '/token', method: 'POST', kind: 'oauth', body: 'form', params: ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id', 'client_secret', 'refresh_token', 'scope', 'resource'] },
  { path: '/introspect', method: 'POST', kind: 'oauth', body: 'form', params: ['token', 'token_type_hint', 'client_id', 'client_secret'] },
  { path: '/revoke', method: 'POST', kind: 'oauth', body: 'form', params: ['token', 'token_type_hint', 'client_id', 'client_secret'] },
  { path: '/register', method: 'POST', kind: 'oauth', body: 'json', params: ['redirect_uris', 'token_endpoint_auth_method', 'grant_types', 'response_types', 'client_name', 'client_uri', 'logo_uri', 'scope', 'contacts', 'software_id'] },
  { path: '/mcp', method: 'POST', kind: 'mcp', body: 'json', params: [] },
  { path: '/.well-known/oauth-authorization-server', method: 'GET', kind: 'public', body: 'none', params: [] },
  { path: '/.well-known/openid-configuration', method: 'GET', kind: 'public', body: 'none', params: [] },
  { path: '/.well-known/oauth-protected-resource', method: 'GET', kind: 'public', body: 'none', params: [] },
  { path: '/.well-known/oauth-protected-resource/mcp', method: 'GET', kind: 'public', body: 'none', params: [] },
  { path: '/jwks.json', method: 'GET', kind: 'public', body: 'none', params: [] },
  { path: '/healthz', method: 'GET', kind: 'public', body: 'none', params: [] }
]

export interface FuzzRequest {
  endpoint: Endpoint
  raw: RawRequest
  /** Bytes that an HTTP parser must refuse (control characters, oversized headers, broken framing). */
  rawInvalid: boolean
  /** Carries a valid access token (so a 200 from /mcp is legitimate). */
  withToken: boolean
  description: string
}

const CONTROL = ['\u0000', '\r', '\n', '\r\n', '\t', '\u0001', '\u001b', '\u001f', '\u007f']
const NASTY = ['%00', '%0d%0a', '%', '%zz', '%E0%A4%A', '%ff', '\u2028', '\ufeff', '\ud800', '../../etc/passwd', '<script>alert(1)</script>', '"\'><img src=x>', '${jndi:ldap://x}', '{{7*7}}', 'null', 'undefined', '[]', '{}', '__proto__', 'constructor', '0', '-1', '1e309', 'NaN', ' ', '']

/**
 * URL-valued parameters with structure (redirect_uri, client_id metadata URLs, resource, client_uri,
 * logo_uri, jwks_uri): ports out of range or oddly written, IPv6 literals, userinfo, percent-encoding,
 * IDN hosts, very long hosts and paths. Plain random strings almost never reach the URL parsers' corners;
 * a port of 99999 on a registered loopback redirect URI once answered 500 (outside review, defect 1).
 */
export function urlArbitrary (publicUrl: string): fc.Arbitrary<string> {
  const scheme = fc.constantFrom('http://', 'https://', 'HTTPS://', 'cursor://', 'javascript:', 'http:/', 'https:///', '//')
  const userinfo = fc.constantFrom('', '', '', 'user@', 'user:pass@', 'client.example@', '%40@', ':@')
  const host = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('127.0.0.1', 'localhost', '[::1]', new URL(publicUrl).hostname, 'client.example') },
    { weight: 2, arbitrary: fc.constantFrom('[::ffff:127.0.0.1]', '[0:0:0:0:0:0:0:1]', '[fe80::1%25eth0]', '[::1', '::1', '[zz::1]', '127.1', '2130706433', '0x7f.0.0.1', '127.0.0.1.evil.example', 'evil.example') },
    { weight: 1, arbitrary: fc.constantFrom('bücher.example', 'xn--bcher-kva.example', 'xn--', 'ex%61mple.com', 'EXAMPLE.com.', 'a..b', '-a.example', '💥.example') },
    { weight: 1, arbitrary: fc.integer({ min: 64, max: 5000 }).map(n => `${'a'.repeat(n)}.example`) }
  )
  const port = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.constantFrom(':53682', ':1', ':80', ':443', ':65535', ':3000') },
    { weight: 3, arbitrary: fc.constantFrom(':0', ':65536', ':99999', ':00080', ':053682', ':-1', ':abc', ':', ':1e3', ':4294967297', `:${'9'.repeat(40)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }).map(n => `:${n}`) }
  )
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('/cb', '/cb', '/mcp', '/client.json', '') },
    { weight: 2, arbitrary: fc.constantFrom('/cb/../evil', '/%2e%2e/cb', '/cb%2F..%2Fx', '/c%62', '/cb/', '//cb', '/cb\\..\\x', '/cb;x', '/%00', '/%', '/%zz') },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 9000 }).map(n => `/${'p'.repeat(n)}`) }
  )
  const tail = fc.constantFrom('', '', '', '?x=1', '?', '#frag', '#', '?a=%ff', '?code=x&state=y')
  const random = fc.tuple(scheme, userinfo, host, port, path, tail).map(parts => parts.join(''))
  // A URL the server knows (a registered redirect URI, the resource) with one part changed: what reaches
  // past "unknown URL" into matching, redirecting and audience checks.
  const known: Array<[string, string, string, string, string, string]> = [
    ['http://', '', '127.0.0.1', ':53682', '/cb', ''],
    ['https://', '', 'client.example', '', '/cb', ''],
    [`${new URL(publicUrl).protocol}//`, '', new URL(publicUrl).hostname, `:${new URL(publicUrl).port}`, '/mcp', '']
  ]
  const generators = [scheme, userinfo, host, port, path, tail]
  const nearKnown = fc.tuple(fc.constantFrom(...known), fc.integer({ min: 0, max: 5 })).chain(([parts, index]) =>
    (generators[index] as fc.Arbitrary<string>).map(part => parts.map((p, i) => i === index ? part : p).join('')))
  return fc.oneof({ weight: 1, arbitrary: random }, { weight: 2, arbitrary: nearKnown })
}

function valuePool (target: FuzzTarget): fc.Arbitrary<string> {
  const p = target.pool
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 3, arbitrary: urlArbitrary(target.url) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 1, arbitrary: fc.constantFrom(...CONTROL).filter(() => true) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('A', 'é', '💥', '%41', '\u0000'), fc.integer({ min: 500, max: 12_000 })).map(([c, n]) => c.repeat(n)) },
    { weight: 5, arbitrary: fc.constantFrom(
      ...p.clientIds, p.confidential.secret, p.accessToken, p.readOnlyToken,
      'code', 'S256', 'plain', 'mcp:read', 'mcp:write', 'mcp:read mcp:write', 'openid', 'allow', 'deny', 'query', 'fragment', 'consent',
      'authorization_code', 'refresh_token', 'client_credentials', 'password', 'access_token',
      REDIRECT, HTTPS_REDIRECT, 'http://127.0.0.1:1/cb', 'http://127.0.0.1:53682/cb/../evil', 'http://localhost:53682/cb', 'http://[::1]:53682/cb',
      'https://client.example@evil.example/cb', 'https://evil.example/cb', 'https://client.example/cb#frag', 'https://client.example\\@evil.example/cb',
      'https://client.example/cb%2F..%2Fevil', 'https://CLIENT.example/cb', 'https://client.example:443/cb', 'https://client.example/cb?x=1', 'javascript:alert(1)',
      `${target.url}/mcp`, `${target.url}/mcp/`, 'https://evil.example/mcp', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
    ) }
  )
}

const encode = (value: string): string => {
  try { return encodeURIComponent(value) } catch { return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '?')) }
}

/** key=value pairs as a query string or form body; raw mode leaves bytes as they are. */
function pairsArbitrary (names: string[], values: fc.Arbitrary<string>): fc.Arbitrary<{ text: string, rawInvalid: boolean }> {
  const name = fc.oneof(
    { weight: 6, arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.constant('x') },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'a[b]', 'client_id[]', '', '&', '=') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }
  )
  const pair = fc.tuple(name, fc.array(values, { minLength: 1, maxLength: 3 }), fc.constantFrom('encoded', 'encoded', 'encoded', 'raw', 'no-value'))
  return fc.array(pair, { maxLength: 12 }).map(pairs => {
    let rawInvalid = false
    const parts: string[] = []
    for (const [key, vals, mode] of pairs) {
      for (const v of vals) { // several values = a duplicated parameter
        if (mode === 'no-value') { parts.push(encode(key)); continue }
        if (mode === 'raw') {
          const text = `${key}=${v}`
          if (/[^\x21-\x7e]/.test(text)) rawInvalid = true
          parts.push(text)
        } else {
          parts.push(`${encode(key)}=${encode(v)}`)
        }
      }
    }
    return { text: parts.join('&'), rawInvalid }
  })
}

function headerArbitrary (target: FuzzTarget, values: fc.Arbitrary<string>): fc.Arbitrary<{ headers: Array<[string, string]>, rawInvalid: boolean, withToken: boolean }> {
  const p = target.pool
  const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  const tampered = p.accessToken.slice(0, -4) + (p.accessToken.endsWith('AAAA') ? 'BBBB' : 'AAAA')
  const authorization = fc.oneof(
    fc.constant(`Bearer ${p.accessToken}`),
    fc.constant(`Bearer ${p.readOnlyToken}`),
    fc.constant(`bearer ${p.accessToken}`),
    fc.constant(`Bearer ${tampered}`),
    fc.constant(`Bearer ${p.accessToken.split('.').slice(0, 2).join('.')}.`),
    fc.constant(basic(p.confidential.id, p.confidential.secret)),
    fc.tuple(fc.constantFrom(...p.clientIds), values).map(([id, secret]) => basic(id, secret)),
    values.map(v => `Basic ${v}`),
    values.map(v => `Bearer ${v}`),
    fc.constantFrom('Basic', 'Bearer', 'Bearer ', 'Basic ==', 'Digest x', 'Basic Og==', 'Basic OmE=')
  )
  const contentType = fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-16', 'application/json; charset=latin1', '', 'APPLICATION/JSON', 'application/json, text/plain', 'application/x-www-form-urlencoded, application/json', 'application/xml', 'application/json-patch+json', '*/*', 'x')
  const named = fc.oneof(
    { weight: 4, arbitrary: authorization.map(v => ['authorization', v] as [string, string]) },
    { weight: 4, arbitrary: contentType.map(v => ['content-type', v] as [string, string]) },
    { weight: 2, arbitrary: fc.oneof(values, fc.constantFrom('application/json', 'text/event-stream', 'application/json, text/event-stream', 'text/html', '*/*')).map(v => ['accept', v] as [string, string]) },
    { weight: 2, arbitrary: fc.oneof(values, fc.constantFrom('2025-06-18', '2025-03-26', '2025-11-25', '1999-01-01')).map(v => ['mcp-protocol-version', v] as [string, string]) },
    { weight: 2, arbitrary: fc.oneof(values, fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1:1', target.url)).map(v => ['origin', v] as [string, string]) },
    { weight: 2, arbitrary: fc.oneof(values.map(v => `gatehouse-browser=${v}`), fc.constant(`gatehouse-browser=${'A'.repeat(43)}; gatehouse-consent=${'x'.repeat(3000)}`)).map(v => ['cookie', v] as [string, string]) },
    { weight: 1, arbitrary: fc.constantFrom('none', 'same-origin', 'cross-site', 'same-site').map(v => ['sec-fetch-site', v] as [string, string]) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).filter(s => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s)), values).map(([n, v]) => [n, v] as [string, string]) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map(n => ['x-huge', 'h'.repeat(n)] as [string, string]) }
  )
  return fc.array(named, { maxLength: 6 }).map(list => {
    let rawInvalid = false
    let withToken = false
    let size = 0
    for (const [name, value] of list) {
      if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) rawInvalid = true
      size += name.length + value.length + 4
      // The auth scheme is case-insensitive (RFC 7235 §2.1), so "bearer <token>" is a valid credential too.
      if (name === 'authorization' && /^bearer /i.test(value) && [p.accessToken, p.readOnlyToken].includes(value.slice(7).trim())) withToken = true
    }
    if (size > 12_000) rawInvalid = true // near or past node's 16 KiB header limit: 431 at the parser is fine
    if (list.filter(([n]) => n === 'content-type').length > 1) rawInvalid = true
    return { headers: list, rawInvalid, withToken }
  })
}

function mcpBodyArbitrary (values: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const id = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.constant({}), fc.double())
  const method = fc.constantFrom('initialize', 'tools/list', 'tools/call', 'ping', 'notifications/initialized', 'resources/list', 'prompts/get', 'completion/complete', 'logging/setLevel')
  const toolCall = fc.record({
    name: fc.oneof(fc.constantFrom('whoami', 'query_data', 'add_record', 'call_downstream', 'nope'), values),
    arguments: fc.oneof(
      fc.object({ maxDepth: 2 }),
      fc.record({ id: fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), values), title: values, category: fc.constantFrom('sales', 'x', ''), value: fc.oneof(fc.double(), fc.integer()) }),
      fc.record({ category: fc.oneof(values, fc.constant('sales')), limit: fc.oneof(fc.integer(), fc.double()) })
    )
  })
  const initialize = fc.constant({ protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } })
  const message = fc.record({
    jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.constantFrom('1.0', '', 2) }),
    id,
    method: fc.oneof({ weight: 4, arbitrary: method }, { weight: 1, arbitrary: values }),
    // Includes arrays, scalars and odd _meta values: these once hung /mcp (see endpoints.test.ts).
    params: fc.oneof(toolCall, initialize, fc.object({ maxDepth: 2 }), fc.array(values, { maxLength: 3 }), values,
      fc.record({ _meta: fc.oneof(values, fc.object({ maxDepth: 1 })) }), fc.constant(null))
  }, { requiredKeys: [] })
  return fc.oneof(
    { weight: 6, arbitrary: message.map(m => JSON.stringify(m)) },
    { weight: 2, arbitrary: fc.array(message, { maxLength: 25 }).map(m => JSON.stringify(m)) },
    { weight: 1, arbitrary: fc.jsonValue().map(v => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '[', 'nul', '{"jsonrpc":"2.0","id":1,"method":"tools/list"', '[[[[[[[[[[', '['.repeat(20_000) + ']'.repeat(20_000), '{"__proto__":{"admin":true},"jsonrpc":"2.0","id":1,"method":"tools/list"}') }
  )
}

function registerBodyArbitrary (values: fc.Arbitrary<string>, urls: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const uri = fc.oneof(values, urls, urls, fc.constantFrom(REDIRECT, HTTPS_REDIRECT, 'http://evil.example/cb', 'https://a.example/*', 'javascript:alert(1)', 'cursor://callback', 'https://u:p@a.example/cb', 'data:text/html,x', 'http://[::1]:9/cb', 'file:///etc/passwd'))
  const metadata = fc.record({
    redirect_uris: fc.oneof(fc.array(uri, { maxLength: 12 }), values, fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
    token_endpoint_auth_method: fc.oneof(fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'), values),
    grant_types: fc.oneof(fc.constant(['authorization_code', 'refresh_token']), fc.array(values, { maxLength: 3 })),
    response_types: fc.oneof(fc.constant(['code']), fc.array(values, { maxLength: 2 })),
    client_name: values,
    client_uri: fc.oneof(values, urls, fc.constant('https://client.example')),
    logo_uri: fc.oneof(values, urls, fc.constant('https://client.example/logo.png')),
    jwks_uri: fc.oneof(values, urls),
    scope: values,
    contacts: fc.oneof(fc.array(values, { maxLength: 2 }), values)
  }, { requiredKeys: [] })
  return fc.oneof(
    { weight: 6, arbitrary: metadata.map(m => JSON.stringify(m)) },
    { weight: 1, arbitrary: fc.jsonValue().map(v => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"x"', '{"__proto__":{"redirect_uris":["https://a.example/cb"]}}', '{"constructor":{"prototype":{"x":1}}}') }
  )
}

const TEN_MB = 10 * 1024 * 1024
const URL_PARAMS = ['redirect_uri', 'client_id', 'resource']
const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'code_challenge', 'code_challenge_method', 'scope', 'state', 'resource', 'response_mode', 'prompt', 'request', 'request_uri']
let addresses = 0
const nextAddress = (): string => { addresses++; return `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses & 255}` }

export function requestArbitrary (target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const values = valuePool(target)
  const endpoint = fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...ENDPOINTS) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom('/', '/token/', '/TOKEN', '//token', '/authorize%00', '/mcp/../token', '/%2e%2e/jwks.json', '/.well-known/', '/admin'), fc.string({ maxLength: 20 }).map(s => `/${encode(s)}`)).map(path => ({ path, method: 'GET', kind: 'public' as Kind, params: [], body: 'none' as const })) }
  )
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'FOO') }
  )
  const bodyShape = fc.oneof(
    { weight: 12, arbitrary: fc.constant<'natural' | 'none' | 'form' | 'json' | 'bytes' | 'huge' | 'huge-chunked' | 'truncated'>('natural') },
    { weight: 1, arbitrary: fc.constantFrom('none', 'form', 'json', 'bytes', 'truncated') },
    { weight: 1, arbitrary: fc.constantFrom('huge', 'huge-chunked') }
  )
  return fc.record({
    endpoint,
    method,
    query: endpoint.chain(e => pairsArbitrary(e.params, values)),
    form: pairsArbitrary(['grant_type', 'code', 'token', 'client_id', 'client_secret', 'refresh_token', 'code_verifier', 'redirect_uri', 'transaction', 'csrf_token', 'decision', 'resource', 'scope'], values),
    mcp: mcpBodyArbitrary(values),
    register: registerBodyArbitrary(values, urlArbitrary(target.url)),
    bytes: fc.uint8Array({ maxLength: 2048 }),
    headers: headerArbitrary(target, fc.oneof({ weight: 9, arbitrary: values.filter(v => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v)) }, { weight: 1, arbitrary: values })),
    bodyShape,
    hugeSize: fc.constantFrom(TEN_MB, 2 * 1024 * 1024, 1024 * 1024 + 1, 70 * 1024),
    cut: fc.double({ min: 0, max: 0.99, noNaN: true }),
    near: fc.boolean(),
    overrides: fc.array(fc.constantFrom(...AUTHORIZE_PARAMS).chain(name => fc.tuple(fc.constant(name), fc.option(URL_PARAMS.includes(name) ? fc.oneof(urlArbitrary(target.url), values) : values, { nil: undefined }))), { maxLength: 3 })
  }).map(g => {
    const e = g.endpoint
    const verb = g.method ?? e.method
    const naturalBody = e.body === 'none' ? 'none' : e.body === 'form' ? 'form' : e.path === '/mcp' ? 'mcp' : 'register'
    const shape = g.bodyShape === 'natural' ? naturalBody : g.bodyShape
    let body: Buffer | undefined
    let contentType: string | undefined
    if (shape === 'form') { body = Buffer.from(e.body === 'form' ? g.query.text : g.form.text, 'utf8'); contentType = 'application/x-www-form-urlencoded' }
    if (shape === 'mcp') { body = Buffer.from(g.mcp, 'utf8'); contentType = 'application/json' }
    if (shape === 'register') { body = Buffer.from(g.register, 'utf8'); contentType = 'application/json' }
    if (shape === 'json') { body = Buffer.from(JSON.stringify(Object.fromEntries(new URLSearchParams(g.form.text))), 'utf8'); contentType = 'application/json' }
    if (shape === 'bytes') { body = Buffer.from(g.bytes); contentType = 'application/octet-stream' }
    if (shape === 'huge' || shape === 'huge-chunked') { body = Buffer.alloc(g.hugeSize, 0x61); contentType = e.kind === 'mcp' || e.path === '/register' ? 'application/json' : 'application/x-www-form-urlencoded' }
    if (shape === 'truncated') { body = Buffer.from(e.path === '/mcp' ? g.mcp : g.form.text || 'a=b', 'utf8'); contentType = e.path === '/mcp' || e.path === '/register' ? 'application/json' : 'application/x-www-form-urlencoded' }
    let queryText = e.body === 'form' && shape === 'form' ? '' : (e.body === 'none' || g.query.text.length % 3 === 0 ? g.query.text : '')
    // A fresh client address per request: the per-IP rate limits must not hide the endpoints behind 429s.
    const headers: Array<[string, string]> = [['Host', '127.0.0.1'], ['X-Forwarded-For', nextAddress()]]
    // Near-valid requests: a correct request with a few parameters replaced, removed or duplicated, so the
    // fuzz reaches past the first validation into consent pages, error redirects and tool calls.
    if (g.near && e.path === '/authorize' && g.method === undefined) {
      const params = new URLSearchParams({ client_id: target.pool.clientIds[0] as string, redirect_uri: REDIRECT, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'st', resource: `${target.url}/mcp` })
      for (const [name, value] of g.overrides) {
        if (value === undefined) params.delete(name)
        else if (value.length % 2 === 0) params.append(name, value)
        else params.set(name, value)
      }
      queryText = params.toString()
    }
    if (g.near && e.path === '/mcp' && g.method === undefined) {
      headers.push(['Authorization', `Bearer ${g.overrides.length === 1 ? target.pool.readOnlyToken : target.pool.accessToken}`], ['Accept', 'application/json, text/event-stream'], ['MCP-Protocol-Version', g.overrides.length === 2 ? '2025-03-26' : '2025-06-18'])
    }
    // Generated headers come after the defaults and may override or duplicate them.
    const explicitType = g.headers.headers.some(([n]) => n.toLowerCase() === 'content-type')
    if (contentType !== undefined && !explicitType) headers.push(['Content-Type', contentType])
    headers.push(...g.headers.headers)
    const raw: RawRequest = { method: verb, target: queryText === '' ? e.path : `${e.path}?${queryText}`, headers }
    if (body !== undefined) raw.body = body
    if (shape === 'huge-chunked') raw.chunked = 256 * 1024
    if (shape === 'truncated' && body !== undefined) raw.truncateTo = Math.floor(body.length * g.cut)
    // Raw bytes in the body are the body's business; in the request line or headers the parser must refuse them.
    const headBytes = Buffer.byteLength(raw.target) + headers.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 4, 0)
    const rawInvalid = g.headers.rawInvalid || /[^\x21-\x7e]/.test(raw.target) || headBytes > 12_000 || verb === 'FOO'
    return {
      endpoint: e,
      raw,
      rawInvalid,
      withToken: g.headers.withToken || (g.near && e.path === '/mcp' && g.method === undefined),
      description: `${verb} ${raw.target.slice(0, 300)} headers=${JSON.stringify(g.headers.headers.map(([n, v]) => [n, v.slice(0, 80)]))} body=${shape}:${body?.length ?? 0}:${JSON.stringify(body?.subarray(0, 200).toString('utf8') ?? '')}${raw.truncateTo === undefined ? '' : ` truncated at ${raw.truncateTo}`}`
    }
  })
}

// ── the property ────────────────────────────────────────────────────────────

const MAX_MS = 5000
const MAX_MS_HUGE = 15_000
const BODY_LIMIT = 1024 * 1024

function json (body: Buffer): any {
  try { return JSON.parse(body.toString('utf8')) } catch { return undefined }
}

function isOAuthError (body: any): boolean {
  return body !== null && typeof body === 'object' && typeof body.error === 'string' && body.error.length > 0 &&
    (body.error_description === undefined || typeof body.error_description === 'string')
}

function isRpcError (body: any): boolean {
  return body !== null && typeof body === 'object' && body.jsonrpc === '2.0' && typeof body.error?.code === 'number' && typeof body.error?.message === 'string'
}

/** Only these redirect targets were ever registered: a 303 anywhere else is an open redirect. */
function isRegisteredRedirect (location: string): boolean {
  let url: URL
  try { url = new URL(location) } catch { return false }
  if (location.startsWith(`${HTTPS_REDIRECT}?`)) return true
  return url.protocol === 'http:' && url.hostname === '127.0.0.1' && url.pathname === '/cb' && url.username === '' && url.hash === '' && location.startsWith('http://127.0.0.1:')
}

/** Why this outcome breaks the property, or undefined when it is fine. */
export function judge (request: FuzzRequest, outcome: RawOutcome, effects: string[]): string | undefined {
  const { raw, endpoint } = request
  const bodyLength = raw.body?.length ?? 0
  const bound = bodyLength > BODY_LIMIT ? MAX_MS_HUGE : MAX_MS
  if (outcome.kind === 'timeout') return 'no answer: the request hung'
  if (outcome.ms > bound) return `answered after ${Math.round(outcome.ms)} ms (bound ${bound} ms)`
  const interrupted = raw.truncateTo !== undefined || bodyLength > BODY_LIMIT || request.rawInvalid
  if (outcome.kind === 'closed') return interrupted ? checkEffects(request, undefined, effects) : `connection closed without an answer (${outcome.detail})`
  const { status, headers, body } = outcome.response
  if (status >= 500) return `status ${status}: ${body.toString('utf8').slice(0, 200)}`
  const parsed = json(body)
  const type = headers.get('content-type') ?? ''
  const verb = raw.method
  // Refused by the HTTP parser before any route ran (Fastify's clientError answer): only for malformed bytes.
  if ((status === 400 || status === 431 || status === 413) && isOAuthError(parsed) && typeof parsed.message === 'string' && typeof parsed.statusCode === 'number') {
    return request.rawInvalid || interrupted ? checkEffects(request, status, effects) : `parser-level ${status} for a well-formed request`
  }
  const route = ENDPOINTS.find(x => x.path === raw.target.split('?')[0])
  const onRoute = route !== undefined && (verb === route.method || (verb === 'HEAD' && route.method === 'GET'))
  // HEAD has no body to judge; OPTIONS is CORS preflight, answered by @fastify/cors in its own terms.
  if (verb === 'HEAD' || verb === 'OPTIONS') return status < 500 ? checkEffects(request, status, effects) : 'HEAD/OPTIONS 5xx'
  if (!onRoute) {
    // GET/DELETE /mcp: 405, unless the body was refused first (415/413/400) — always as a JSON-RPC error.
    if (endpoint.path === '/mcp' && (verb === 'GET' || verb === 'DELETE')) return status >= 400 && status < 500 && (isRpcError(parsed) || isOAuthError(parsed)) && (status === 405 || bodyLength > 0 || raw.headers.some(([n]) => n.toLowerCase() === 'content-type')) ? checkEffects(request, status, effects) : `/mcp ${verb}: expected a 405 JSON-RPC error, got ${status}`
    if (status >= 400 && status < 500) return isOAuthError(parsed) ? checkEffects(request, status, effects) : `off-route ${status} without the JSON error format: ${body.toString('utf8').slice(0, 120)}`
    return `off-route request answered ${status}`
  }
  switch (route.kind) {
    case 'public':
      if (status !== 200 || parsed === undefined) return `public document answered ${status}`
      break
    case 'oauth': {
      if (status >= 400) {
        if (!type.startsWith('application/json') || !isOAuthError(parsed)) return `OAuth error not in RFC 6749 JSON: ${status} ${type} ${body.toString('utf8').slice(0, 120)}`
        if (headers.get('cache-control') !== 'no-store') return `OAuth error without cache-control: no-store (${headers.get('cache-control')})`
        if (status === 401 && parsed.error !== 'invalid_client' && parsed.error !== 'invalid_token') return `401 with error ${parsed.error}`
        break
      }
      if (route.path === '/register' && status === 201 && typeof parsed?.client_id === 'string') break
      if (route.path === '/introspect' && status === 200 && typeof parsed?.active === 'boolean') break
      if (route.path === '/revoke' && status === 200) break
      return `${route.path} answered ${status}: ${body.toString('utf8').slice(0, 120)}`
    }
    case 'html': {
      if (status === 303) {
        const location = headers.get('location') ?? ''
        if (route.path !== '/authorize' || !isRegisteredRedirect(location)) return `redirect to an unregistered place: ${location}`
        const back = new URL(location)
        if (back.searchParams.get('error') === null || back.searchParams.get('iss') === null) return `error redirect without error/iss: ${location}`
        break
      }
      if (!type.startsWith('text/html')) return `${route.path} answered ${status} with ${type}, not the HTML page: ${body.toString('utf8').slice(0, 120)}`
      if (status === 200 && route.path === '/authorize' && body.includes('name="decision"')) break
      if (status >= 400 && body.includes('This request cannot continue')) break
      return `${route.path} answered ${status} with an unexpected page`
    }
    case 'mcp': {
      if (status === 401) {
        if (!(headers.get('www-authenticate') ?? '').startsWith('Bearer ') || !(headers.get('www-authenticate') ?? '').includes('resource_metadata=')) return '401 without a Bearer challenge naming the resource metadata'
        if (!isOAuthError(parsed)) return '401 without the OAuth JSON error'
        break
      }
      if (status >= 400) {
        if (!isOAuthError(parsed) && !isRpcError(parsed)) return `/mcp ${status} neither an OAuth nor a JSON-RPC error: ${body.toString('utf8').slice(0, 120)}`
        break
      }
      if (!request.withToken) return `/mcp answered ${status} without a valid token`
      if (status === 202 && body.length === 0) break
      if (status === 200 && parsed !== undefined) break
      return `/mcp answered ${status}`
    }
  }
  return checkEffects(request, status, effects)
}

function checkEffects (request: FuzzRequest, status: number | undefined, effects: string[]): string | undefined {
  const path = request.raw.target.split('?')[0]
  const verb = request.raw.method
  const allowed = (name: string): boolean => {
    if (name === 'saveClient') return path === '/register' && status === 201 && verb === 'POST'
    // A GET's head is the whole request: a body cut short afterwards (answered 400 by the HTTP parser) does not
    // stop the handler, which still answers the complete head with a consent page and its transaction.
    const cut = request.raw.truncateTo !== undefined
    if (name === 'saveTransaction') return path === '/authorize' && (verb === 'GET' || verb === 'HEAD') && (status === 200 || verb === 'HEAD' || cut)
    if (name === 'putDatasetRecord') return path === '/mcp' && status === 200 && request.withToken
    return false
  }
  const unexpected = effects.filter(e => !allowed(e))
  if (unexpected.length > 0) return `store writes this answer (${status ?? 'none'}) does not allow: ${unexpected.join(', ')}`
  if (effects.filter(e => e === 'saveClient' || e === 'saveTransaction').length > 1) return `more than one record created: ${effects.join(', ')}`
  return undefined
}

// ── the run ────────────────────────────────────────────────────────────────

export interface FuzzRunOptions {
  numRuns: number
  seed: number
  /** fast-check replay path (from a failure report). */
  path?: string | undefined
}

export async function runEndpointFuzz (t: Test, options: FuzzRunOptions): Promise<void> {
  const target = await startTarget(t)
  const before = await target.countItems()
  const created: Record<string, number> = {}
  const statuses = new Map<string, number>()
  let sent = 0
  let firstFailure: string | undefined
  const property = fc.asyncProperty(requestArbitrary(target), async request => {
    target.effects.length = 0
    const outcome = await rawRequest(target.port, request.raw, ((request.raw.body?.length ?? 0) > BODY_LIMIT ? MAX_MS_HUGE : MAX_MS) + 3000)
    // A client that hung up (truncated body, early close) leaves the handler running: wait for it, so its
    // store writes are judged with this request, and a handler that never finishes is a hang too.
    const settled = await target.settled(MAX_MS)
    const effects = [...target.effects]
    if (!settled) throw new Error(`the server was still working on the request ${MAX_MS} ms after the answer\n  request: ${request.description}`)
    sent++
    const key = `${request.raw.target.split('?')[0]?.slice(0, 40)} ${outcome.kind === 'response' ? outcome.response.status : outcome.kind}`
    statuses.set(key, (statuses.get(key) ?? 0) + 1)
    const problem = judge(request, outcome, effects)
    if (problem !== undefined) {
      if (firstFailure === undefined) {
        firstFailure = `${problem}\n  request: ${request.description}`
        console.error(`[fuzz] first failure (shrinking follows): ${firstFailure}`)
      }
      throw new Error(`${problem}\n  request: ${request.description}`)
    }
    for (const e of effects) created[e] = (created[e] ?? 0) + 1
  })
  const result = await fc.check(property, { numRuns: options.numRuns, seed: options.seed, ...(options.path === undefined ? {} : { path: options.path }), endOnFailure: false, markInterruptAsFailure: true })
  if (result.failed) {
    const replay = `FUZZ_SEED=${result.seed} FUZZ_PATH=${result.counterexamplePath ?? ''}`
    t.comment(`fuzz failure; replay with: ${replay}`)
    console.error(`\n[fuzz] failing seed ${result.seed}, path ${result.counterexamplePath}; replay with: ${replay} npx tap <this file>\n`)
    t.fail(`property failed after ${result.numRuns} runs (seed ${result.seed}, path ${result.counterexamplePath}): ${String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance)}`)
    return
  }
  t.pass(`${result.numRuns} generated requests (seed ${result.seed}): no 5xx, no hang, standard error formats, no unexpected store writes`)
  t.ok(sent >= options.numRuns, `${sent} requests sent`)

  // The whole table: exactly the records the successful answers account for, nothing else.
  const after = await target.countItems()
  const expect = (kind: string, effect: string): void => {
    t.equal((after[kind] ?? 0) - (before[kind] ?? 0), created[effect] ?? 0, `${kind} records: only the ${created[effect] ?? 0} that answers created`)
  }
  expect('client', 'saveClient')
  expect('transaction', 'saveTransaction')
  expect('dataset_record', 'putDatasetRecord')
  for (const kind of ['code', 'grant', 'refresh_token', 'consent']) t.equal(after[kind] ?? 0, before[kind] ?? 0, `no ${kind} record appeared`)

  const health = await rawRequest(target.port, { method: 'GET', target: '/healthz', headers: [['Host', '127.0.0.1']] })
  t.equal(health.kind === 'response' ? health.response.status : health.kind, 200, 'the server is still healthy after the run')
  t.comment(`answers by path and status: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => b[1] - a[1]).slice(0, 40)))}`)
}
