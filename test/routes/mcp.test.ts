// POST /mcp through app.inject: the bearer guard (RFC 6750, RFC 9728, MCP 2025-06-18/2025-11-25
// "Authorization"), transport hygiene (MCP "Transports"), and per-caller permissions.
import t from 'tap'
import { buildMcpApp, callTool, post, rpc, toolJson, MCP_HEADERS } from '../mcp/helpers.ts'
import { createFakeClock } from '../support/store.ts'
import { StoreUnavailableError } from '../../src/ports/store.ts'
import { TOOL_FORBIDDEN } from '../../src/mcp/server.ts'

const PRM = (url: string) => `${url}/.well-known/oauth-protected-resource/mcp`

t.test('RFC 6750 §3.1 / RFC 9728 §5.1 / MCP scope selection: no token → 401 with scope and resource_metadata, no error code', async t => {
  const { app, config } = await buildMcpApp(t)
  const res = await post(app, undefined, rpc('tools/list'))
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], `Bearer scope="${config.defaultScopes.join(' ')}", resource_metadata="${PRM(config.publicUrl)}"`)
  t.equal(res.json().error, 'invalid_token', 'OAuth JSON body, as on every 401/403 of /mcp')
  const basic = await post(app, undefined, rpc('tools/list'), { authorization: 'Basic dXNlcjpwYXNz' })
  t.equal(basic.statusCode, 401, 'a non-bearer credential is no bearer token')
  t.notMatch(String(basic.headers['www-authenticate']), /error=/)
})

t.test('RFC 6750 §3.1: a bad token → 401 error="invalid_token" plus resource_metadata', async t => {
  const built = await buildMcpApp(t)
  const { app, config } = built
  const good = await built.mint()
  const [h, p, s] = good.token.split('.') as [string, string, string]
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  const reencode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const cases: Record<string, string> = {
    garbage: 'not-a-jwt',
    'tampered payload': `${h}.${reencode({ ...payload, groups: ['admins'] })}.${s}`,
    'alg none': `${reencode({ alg: 'none', typ: 'at+jwt' })}.${p}.`,
    'HS256 header': `${reencode({ alg: 'HS256', typ: 'at+jwt', kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid })}.${p}.${s}`
  }
  // A token signed by the right key for another audience: mint with a config whose resource differs.
  const { issueAccessToken } = await import('../../src/oauth/access-tokens.ts')
  cases['wrong audience'] = (await issueAccessToken({ grantId: good.grant.grantId, clientId: 'test-client', identity: good.grant.identity }, ['mcp:read'], {
    keys: built.keys, clock: { now: () => Math.floor(Date.now() / 1000) }, issuer: config.publicUrl, audience: 'https://elsewhere.example/mcp', ttlSeconds: 600
  })).token
  cases.expired = (await issueAccessToken({ grantId: good.grant.grantId, clientId: 'test-client', identity: good.grant.identity }, ['mcp:read'], {
    keys: built.keys, clock: { now: () => Math.floor(Date.now() / 1000) - 7200 }, issuer: config.publicUrl, audience: config.resourceUrl, ttlSeconds: 600
  })).token
  for (const [name, token] of Object.entries(cases)) {
    const res = await post(app, token, rpc('tools/list'))
    t.equal(res.statusCode, 401, name)
    t.match(res.headers['www-authenticate'], /^Bearer error="invalid_token", error_description="[^"]+", scope="mcp:read mcp:write", resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"$/, name)
  }
  t.equal((await post(app, good.token, rpc('tools/list'))).statusCode, 200, 'the untouched token works')
})

t.test('DESIGN decision 7: a token whose grant is absent, revoked or expired is refused (cache TTL 0 = every request)', async t => {
  const clock = createFakeClock()
  const built = await buildMcpApp(t, { clock, env: { GRANT_CACHE_TTL: '0' } })
  const { app, store } = built
  const orphan = await built.mint({ noGrant: true })
  t.equal((await post(app, orphan.token, rpc('tools/list'))).statusCode, 401, 'grant never existed')

  const live = await built.mint()
  t.equal((await post(app, live.token, rpc('tools/list'))).statusCode, 200)
  await store.store.revokeGrant(live.grant.grantId, clock.now())
  const revoked = await post(app, live.token, rpc('tools/list'))
  t.equal(revoked.statusCode, 401, 'revocation is seen on the very next request')
  t.match(revoked.headers['www-authenticate'], /error="invalid_token"/)

  const short = await built.mint({ grantTtlSeconds: 60, ttlSeconds: 3600 })
  t.equal((await post(app, short.token, rpc('tools/list'))).statusCode, 200)
  clock.advance(61)
  t.equal((await post(app, short.token, rpc('tools/list'))).statusCode, 401, 'grant expired before the token')
})

t.test('DESIGN decision 7: with a grant cache, revocation takes effect once the cached check expires', async t => {
  const clock = createFakeClock()
  const built = await buildMcpApp(t, { clock, env: { GRANT_CACHE_TTL: '30' } })
  const { app, store } = built
  const live = await built.mint()
  t.equal((await post(app, live.token, rpc('tools/list'))).statusCode, 200)
  await store.store.revokeGrant(live.grant.grantId, clock.now())
  t.equal((await post(app, live.token, rpc('tools/list'))).statusCode, 200, 'still cached (documented window)')
  clock.advance(31)
  t.equal((await post(app, live.token, rpc('tools/list'))).statusCode, 401, 'refused after GRANT_CACHE_TTL')
})

t.test('a store outage during the grant check is 503 temporarily_unavailable, never 500', async t => {
  let failing = false
  const built = await buildMcpApp(t, { env: { GRANT_CACHE_TTL: '0' } })
  // Same real store, with findGrant failing on demand (as the adapter does when DynamoDB times out).
  const real = built.store.store
  const findGrant = real.findGrant.bind(real)
  real.findGrant = async (id: string) => { if (failing) throw new StoreUnavailableError('timeout'); return await findGrant(id) }
  t.teardown(() => { real.findGrant = findGrant })
  const { token } = await built.mint()
  failing = true
  const res = await post(built.app, token, rpc('tools/list'))
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'temporarily_unavailable')
  t.equal(res.headers['retry-after'], '5')
  failing = false
  t.equal((await post(built.app, token, rpc('tools/list'))).statusCode, 200, 'a failure is not cached')
})

t.test('MCP Transports (security warning): a disallowed Origin is 403; an absent or allowed one passes', async t => {
  const built = await buildMcpApp(t, { env: { ALLOWED_ORIGINS: 'https://app.example' } })
  const { token } = await built.mint()
  t.equal((await post(built.app, token, rpc('tools/list'), { origin: 'https://evil.example' })).statusCode, 403)
  t.equal((await post(built.app, undefined, rpc('tools/list'), { origin: 'http://attacker.localhost:8080' })).statusCode, 403, 'checked before the token')
  t.equal((await post(built.app, token, rpc('tools/list'), { origin: 'https://app.example' })).statusCode, 200)
  t.equal((await post(built.app, token, rpc('tools/list'))).statusCode, 200)
})

t.test('MCP Transports (security warning), default settings: only the public URL\'s own origin and loopback origins pass', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const own = new URL(built.config.publicUrl).origin
  const cases: Array<[string, number]> = [
    ['https://evil.example', 403],
    ['http://evil.example', 403],
    ['null', 403],
    ['http://attacker.localhost:8080', 403],
    ['http://127.0.0.1.evil.example', 403],
    [own, 200],
    ['http://127.0.0.1:6274', 200],
    ['http://localhost:6274', 200],
    ['http://[::1]:6274', 200]
  ]
  for (const [origin, status] of cases) {
    const res = await post(built.app, token, rpc('tools/list'), { origin })
    t.equal(res.statusCode, status, `${origin}: ${status}`)
    const preflight = await built.app.inject({ method: 'OPTIONS', url: '/mcp', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } })
    t.equal(preflight.headers['access-control-allow-origin'], status === 200 ? origin : undefined, `${origin}: CORS on /mcp agrees with the Origin check`)
  }
})

t.test('ALLOWED_ORIGINS=* lets any origin through (documented as unsafe)', async t => {
  const built = await buildMcpApp(t, { env: { ALLOWED_ORIGINS: '*' } })
  const { token } = await built.mint()
  t.equal((await post(built.app, token, rpc('tools/list'), { origin: 'https://evil.example' })).statusCode, 200)
})

t.test('MCP Transports: MCP-Protocol-Version — unsupported is 400, absent falls back to 2025-03-26, 2025-11-25 accepted', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const bad = await post(built.app, token, rpc('tools/list'), { 'mcp-protocol-version': '1999-01-01' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, -32022, 'MCP 2026-07-28 versioning: UnsupportedProtocolVersionError, which both eras understand')
  t.match(bad.json().error.data, { requested: '1999-01-01', supported: ['2026-07-28', '2025-11-25', '2025-06-18'] })
  const res = await built.app.inject({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, payload: JSON.stringify(rpc('tools/list')) })
  t.equal(res.statusCode, 200)
  t.equal((await post(built.app, token, rpc('tools/list'), { 'mcp-protocol-version': '2025-11-25' })).statusCode, 200)
})

t.test('MCP Transports: initialize negotiates a supported version and issues a session id (test/routes/mcp-sessions.test.ts)', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const res = await post(built.app, token, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }))
  t.equal(res.statusCode, 200)
  t.equal(res.json().result.protocolVersion, '2025-11-25')
  t.same(res.json().result.capabilities, { tools: { listChanged: false } })
  t.match(res.headers['mcp-session-id'], /^gh1\./)
  const old = await post(built.app, token, rpc('initialize', { protocolVersion: '2099-01-01', capabilities: {}, clientInfo: { name: 't', version: '1' } }))
  t.equal(old.json().result.protocolVersion, '2025-11-25', 'unknown version → the latest the server supports')
})

t.test('MCP Transports: GET without Last-Event-ID, HEAD and DELETE /mcp answer 405 with Allow: GET, POST (GET resumes), with or without a token', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  for (const authorization of [undefined, `Bearer ${token}`]) {
    for (const method of ['GET', 'HEAD', 'DELETE'] as const) {
      const res = await built.app.inject({ method, url: '/mcp', headers: { accept: 'text/event-stream', ...(authorization === undefined ? {} : { authorization }) } })
      t.equal(res.statusCode, 405, method)
      t.equal(res.headers.allow, 'GET, POST')
    }
  }
  const resume = await built.app.inject({ method: 'GET', url: '/mcp', headers: { accept: 'text/event-stream', 'last-event-id': 'x' } })
  t.equal(resume.statusCode, 401, 'a resume (GET + Last-Event-ID) needs the bearer token')
})

t.test('JSON-RPC 2.0 §5.1: malformed bodies get JSON-RPC errors (-32700, -32600), never 500', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const parse = await post(built.app, token, '{"jsonrpc": "2.0", "id": 1, "method": ')
  t.equal(parse.statusCode, 400)
  t.same(parse.json(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } })
  for (const body of ['42', '"x"', 'null', '{"id": 1, "method": "tools/list"}', '{"jsonrpc": "2.0", "id": null, "method": "tools/list"}', '{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": 3}', '[]']) {
    const res = await post(built.app, token, body, { 'mcp-protocol-version': '2025-03-26' })
    t.equal(res.statusCode, 400, body)
    t.equal(res.json().error.code, -32600, body)
  }
  const batch = await post(built.app, token, [rpc('tools/list'), rpc('ping')])
  t.equal(batch.statusCode, 400, 'no batches from 2025-06-18 on')
  t.equal(batch.json().error.code, -32600)
  const oldBatch = await post(built.app, token, [rpc('ping', undefined, 'a'), rpc('tools/list', undefined, 'b')], { 'mcp-protocol-version': '2025-03-26' })
  t.equal(oldBatch.statusCode, 200, '2025-03-26 batches are answered')
  t.same(oldBatch.json().map((m: { id: string }) => m.id), ['a', 'b'])
  const unknown = await post(built.app, token, rpc('no/such/method'))
  t.equal(unknown.json().error.code, -32601)
})

t.test('MCP Transports: notifications and responses only → 202 Accepted with no body', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const res = await post(built.app, token, { jsonrpc: '2.0', method: 'notifications/initialized' })
  t.equal(res.statusCode, 202)
  t.equal(res.body, '')
})

t.test('transport limits: 413 over 1 MB, 415 for non-JSON, 406 when JSON is not acceptable', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const big = await post(built.app, token, JSON.stringify({ ...rpc('tools/call', { name: 'whoami', arguments: { pad: 'x'.repeat(1024 * 1024) } }) }))
  t.equal(big.statusCode, 413)
  t.equal(big.json().jsonrpc, '2.0')
  const form = await built.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' })
  t.equal(form.statusCode, 415)
  t.equal(form.json().error.code, -32000)
  const html = await post(built.app, token, rpc('tools/list'), { accept: 'text/html' })
  t.equal(html.statusCode, 406)
  const unauthenticatedBig = await post(built.app, undefined, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }))
  t.equal(unauthenticatedBig.statusCode, 401, 'the token is checked before the body is read')
})

t.test('tools/list shows only the tools the caller\'s scopes and groups allow', async t => {
  const built = await buildMcpApp(t, { env: { DOWNSTREAM_URL: 'http://127.0.0.1:9/api' } })
  const names = async (options: Parameters<typeof built.mint>[0]) => {
    const { token } = await built.mint(options)
    return (await post(built.app, token, rpc('tools/list'))).json().result.tools.map((tool: { name: string }) => tool.name).sort()
  }
  t.same(await names({ scope: ['mcp:read'], groups: ['admins'] }), ['call_downstream', 'query_data', 'whoami'], 'read scope: no write tools, even for admins')
  t.same(await names({ scope: ['mcp:read', 'mcp:write'], groups: [] }), ['call_downstream', 'query_data', 'whoami'], 'write scope without the admins group: add_record hidden')
  t.same(await names({ scope: ['mcp:read', 'mcp:write'], groups: ['admins'] }), ['add_record', 'call_downstream', 'query_data', 'whoami'])
  t.same(await names({ scope: ['mcp:write'], groups: ['admins'] }), ['add_record'])
  const { token } = await built.mint()
  const tool = (await post(built.app, token, rpc('tools/list'))).json().result.tools.find((x: { name: string }) => x.name === 'query_data')
  t.equal(tool.inputSchema.type, 'object', 'the TypeBox schema is advertised as JSON Schema')
  t.equal(tool.inputSchema.properties.limit.maximum, 100)
  t.equal(tool.annotations.readOnlyHint, true)
})

t.test('call_downstream is not offered without DOWNSTREAM_URL', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint({ groups: ['admins'] })
  const tools = (await post(built.app, token, rpc('tools/list'))).json().result.tools.map((x: { name: string }) => x.name)
  t.notOk(tools.includes('call_downstream'))
})

t.test('RFC 6750 §3.1 / MCP step-up: a tool whose scope the token lacks → 403 insufficient_scope with the scope', async t => {
  const logLines: string[] = []
  const built = await buildMcpApp(t, { logLines })
  const { token } = await built.mint({ scope: ['mcp:read'], groups: ['admins'] })
  const message = rpc('tools/call', { name: 'add_record', arguments: { id: 'x-1', title: 'x', category: 'x', value: 1 } }, 7)
  const res = await post(built.app, token, message)
  t.equal(res.statusCode, 403)
  t.equal(res.headers['www-authenticate'], `Bearer error="insufficient_scope", error_description="this tool needs the mcp:write scope", scope="mcp:read mcp:write", resource_metadata="${PRM(built.config.publicUrl)}"`)
  t.equal(res.json().error, 'insufficient_scope')
  const { extractWWWAuthenticateParams } = await import('@modelcontextprotocol/sdk/client/auth.js')
  const parsed = extractWWWAuthenticateParams(new Response(null, { status: 403, headers: { 'www-authenticate': String(res.headers['www-authenticate']) } }))
  t.equal(parsed.scope, 'mcp:read mcp:write', 'the official client reads the scopes to step up to (the ones it has plus the missing one)')
  t.equal(parsed.error, 'insufficient_scope')
  t.equal(String(parsed.resourceMetadataUrl), PRM(built.config.publicUrl))
  const audit = logLines.map(l => JSON.parse(l)).find(l => l.audit === 'tool.denied')
  t.match(audit, { sub: 'user-1', tool: 'add_record', reason: 'scope' })
  const records = await built.store.store.listDatasetRecords()
  t.notOk(records.some(r => r.id === 'x-1'), 'nothing was written')
})

t.test('a tool the caller\'s groups forbid is a JSON-RPC error and is audited as tool.denied', async t => {
  const logLines: string[] = []
  const built = await buildMcpApp(t, { logLines })
  const { token } = await built.mint({ sub: 'bob', scope: ['mcp:read', 'mcp:write'], groups: ['engineering'] })
  const res = await callTool(built.app, token, 'add_record', { id: 'x-2', title: 'x', category: 'x', value: 1 })
  t.equal(res.statusCode, 200)
  t.equal(res.json().error.code, TOOL_FORBIDDEN)
  t.equal(res.json().error.message, 'tool add_record is not available to your groups', 'issue 12 (5): a plain message, no "MCP error -32003:" prefix')
  const audit = logLines.map(l => JSON.parse(l)).filter(l => l.audit === 'tool.denied')
  t.equal(audit.length, 1)
  t.match(audit[0], { sub: 'bob', client_id: 'test-client', tool: 'add_record', reason: 'groups' })
  t.notOk(logLines.some(l => l.includes(token)), 'the token never reaches the logs')
})

t.test('unknown tools are a JSON-RPC error -32602 (MCP Tools, "Error Handling")', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const res = await callTool(built.app, token, 'rm_rf')
  t.equal(res.json().error.code, -32602)
  t.equal(res.json().error.message, 'Unknown tool: rm_rf', 'issue 12 (5): a plain message')
})

t.test('issue 12 (5): a tool that fails unexpectedly is -32603 with a plain message that shows nothing internal', async t => {
  const logLines: string[] = []
  const built = await buildMcpApp(t, { logLines })
  const { token } = await built.mint()
  const real = built.store.store
  const list = real.listDatasetRecords.bind(real)
  real.listDatasetRecords = async () => { throw new Error('secret internal detail') }
  t.teardown(() => { real.listDatasetRecords = list })
  const res = await callTool(built.app, token, 'query_data')
  t.equal(res.statusCode, 200)
  t.same(res.json().error, { code: -32603, message: 'tool query_data failed' })
  t.notMatch(res.body, /secret internal detail/)
  t.ok(logLines.some(l => l.includes('tool failed') && l.includes('secret internal detail')), 'the cause is logged')
})

t.test('issue 12 (9) / JSON-RPC 2.0 §5: an error answer to a request with an id carries that id', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const version = await post(built.app, token, rpc('tools/list', undefined, 41), { 'mcp-protocol-version': '1999-01-01' })
  t.equal(version.statusCode, 400)
  t.equal(version.json().id, 41, 'unsupported MCP-Protocol-Version')
  const accept = await post(built.app, token, rpc('tools/list', undefined, 'a-42'), { accept: 'text/html' })
  t.equal(accept.statusCode, 406)
  t.equal(accept.json().id, 'a-42', 'Accept without application/json')
  const batch = await post(built.app, token, [rpc('tools/list', undefined, 43)])
  t.equal(batch.json().id, null, 'a batch has no single id')
  const params = await post(built.app, token, { jsonrpc: '2.0', id: 44, method: 'tools/list', params: 3 }, { 'mcp-protocol-version': '2025-03-26' })
  t.equal(params.json().id, 44, 'malformed params')
  const sdk = await post(built.app, token, rpc('tools/call', { arguments: {} }, 45))
  t.equal(sdk.json().id, 45, 'a request the SDK refuses')
  t.equal(sdk.json().error.code, -32602)
})

t.test('whoami returns the caller\'s subject, email, groups, scopes and client id', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint({ sub: 'alice', email: 'alice@example.com', groups: ['engineering', 'admins'], scope: ['mcp:read'], clientId: 'cli-1' })
  const body = (await callTool(built.app, token, 'whoami')).json()
  t.same(toolJson(body), { sub: 'alice', email: 'alice@example.com', groups: ['engineering', 'admins'], scopes: ['mcp:read'], client_id: 'cli-1' })
  t.same(body.result.structuredContent, toolJson(body))
})

t.test('query_data filters rows by the caller\'s groups (row-level security)', async t => {
  const built = await buildMcpApp(t)
  const ids = async (groups: string[], args: Record<string, unknown> = {}) => {
    const { token } = await built.mint({ groups })
    const data = toolJson((await callTool(built.app, token, 'query_data', { limit: 100, ...args })).json())
    return (data.rows as Array<{ id: string }>).map(r => r.id)
  }
  t.same(await ids([]), ['kb-001', 'kb-002', 'kb-003'], 'no groups: only rows visible to everyone')
  t.same(await ids(['engineering']), ['eng-001', 'eng-002', 'kb-001', 'kb-002', 'kb-003'])
  t.same(await ids(['admins']), ['adm-001', 'fin-001', 'kb-001', 'kb-002', 'kb-003'])
  t.same(await ids(['engineering'], { category: 'finance' }), [], 'filters cannot reach hidden rows')
  t.same(await ids(['finance'], { text: 'VENDOR' }), ['fin-002'])
  const { token } = await built.mint()
  const invalid = (await callTool(built.app, token, 'query_data', { limit: 1000 })).json()
  t.equal(invalid.result.isError, true, 'MCP 2025-11-25: input validation errors are tool execution errors')
  t.match(invalid.result.content[0].text, /limit/)
})

t.test('add_record validates, writes conditionally, and respects visible_to', async t => {
  const built = await buildMcpApp(t)
  const admin = (await built.mint({ sub: 'alice', groups: ['admins'] })).token
  const bad = (await callTool(built.app, admin, 'add_record', { id: 'Bad Id', title: '', category: 'x', value: 1 })).json()
  t.equal(bad.result.isError, true)
  const extra = (await callTool(built.app, admin, 'add_record', { id: 'ok-1', title: 't', category: 'x', value: 1, owner: 'me' })).json()
  t.equal(extra.result.isError, true, 'unknown properties are refused')
  const created = (await callTool(built.app, admin, 'add_record', { id: 'sec-9', title: 'Pen test report', category: 'security', value: 9, visible_to: ['security'] })).json()
  t.notOk(created.result.isError)
  t.same(toolJson(created).created, { id: 'sec-9', title: 'Pen test report', category: 'security', value: 9, visible_to: ['security'] })
  const again = (await callTool(built.app, admin, 'add_record', { id: 'sec-9', title: 'Overwrite', category: 'security', value: 0 })).json()
  t.equal(again.result.isError, true)
  t.match(again.result.content[0].text, /already exists/)
  const stored = (await built.store.store.listDatasetRecords()).find(r => r.id === 'sec-9')
  t.match(stored, { title: 'Pen test report', createdBy: 'alice', visibleTo: ['security'] }, 'first write kept, creator recorded')
  const see = async (groups: string[]) => {
    const { token } = await built.mint({ groups })
    return (toolJson((await callTool(built.app, token, 'query_data', { category: 'security' })).json()).rows as Array<{ id: string }>).map(r => r.id)
  }
  t.same(await see(['security']), ['sec-9'])
  t.same(await see(['engineering']), [])
})

t.test('hot path: POST /mcp runs only the CORS, Origin and bearer hooks (app-wide plugins such as cookies stay off it)', async t => {
  const { app } = await buildMcpApp(t)
  const routes = app.printRoutes({ includeHooks: true, commonPrefix: false })
  const section = (route: string): string[] => {
    const lines = routes.split('\n')
    const start = lines.findIndex(line => line.includes(route))
    t.not(start, -1, `${route} is routed`)
    const hooks: string[] = []
    for (const line of lines.slice(start + 1)) {
      const hook = /• \((\w+)\) (.*)$/.exec(line)
      if (hook === null) break
      hooks.push(`${hook[1]} ${hook[2]}`)
    }
    return hooks
  }
  t.same(section('/mcp (POST)'), ['onRequest ["handleCors()","checkOrigin()","guard()"]'])
  t.ok(section('/authorize (GET)').some(hook => hook.includes('fastifyCookie')), 'the browser routes still parse and sign cookies')
})
