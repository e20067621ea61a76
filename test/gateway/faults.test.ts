// Gateway faults (issue 14): a backend that is down, slow, cut off, or answers garbage, an oversized body,
// the wrong content type, a redirect, a refusal or a 5xx yields a JSON-RPC error under the request's id with
// 502/503/504 within the configured timeout: never a hang, never a 500, never the backend's own text.
import t, { type Test } from 'tap'
import { buildTestApp, freePort } from '../support/app.ts'
import { mintToken } from '../support/tokens.ts'
import { startFakeBackend } from '../support/fake-mcp-backend.ts'

const PATHS = ['json', 'sse', 'accepted', 'slow', 'slow-body', 'sse-stall', 'sse-huge', 'sse-cut', 'garbage', 'oversized', 'html', 'redirect', 'unauthorized', 'failing', 'busy', 'gateway-timeout', 'no-session', 'cut']

async function setup (t: Test) {
  const backend = await startFakeBackend(t)
  const down = await freePort()
  const backends: Record<string, unknown> = { down: { url: `http://127.0.0.1:${down}/mcp`, timeoutMs: 300 } }
  for (const path of PATHS) backends[path] = { url: `${backend.origin}/${path}`, timeoutMs: 300, maxResponseBytes: 2048, tools: { 'admin-*': { groups: ['admins'] }, 'deploy-prod': { scopes: ['mcp:write'] } } }
  const logLines: string[] = []
  const { app, config } = await buildTestApp(t, { logLines, env: { GATEHOUSE_BACKENDS: JSON.stringify(backends) } })
  const { ctx } = app.gatehouse
  const mint = async (name: string, options: { sub?: string, scope?: string[], groups?: string[] } = {}) => (await mintToken({ config, store: ctx.store, keys: ctx.keys, cipher: ctx.cipher, clock: ctx.clock }, { resource: `${config.publicUrl}/mcp/${name}`, ...options })).token
  const post = async (name: string, body: unknown, headers: Record<string, string> = {}, token?: string) => await app.inject({
    method: 'POST',
    url: `/mcp/${name}`,
    headers: { authorization: `Bearer ${token ?? await mint(name)}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { app, config, backend, mint, post, logLines }
}

const call = (id: number | string = 'c-1') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } })

t.test('a well-behaved backend: JSON relayed with MCP headers only, the session id sealed, event streams passed through', async t => {
  const { post, backend, mint } = await setup(t)
  const token = await mint('json')
  const ok = await post('json', call(1), {}, token)
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { jsonrpc: '2.0', id: 1, result: { content: [{ text: '{"text":"hi"}' }] } })
  t.equal(ok.headers['mcp-protocol-version'], '2025-06-18', 'MCP-* headers come back')
  t.equal(ok.headers['set-cookie'], undefined, 'other backend headers do not')
  t.ok(ok.headers['mcp-session-id'], 'a session id')
  t.not(ok.headers['mcp-session-id'], 'backend-session-1', 'sealed, not the backend\'s')
  t.equal(ok.headers['cache-control'], 'no-store')
  const again = await post('json', call(2), { 'mcp-session-id': ok.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-06-18', 'last-event-id': 'e1', cookie: 'a=b', 'x-forwarded-for': '1.2.3.4' }, token)
  t.equal(again.statusCode, 200)
  const seen = backend.received.at(-1)?.headers ?? {}
  t.equal(seen['mcp-session-id'], 'backend-session-1', 'the backend gets its own session id back')
  t.equal(seen['mcp-protocol-version'], '2025-06-18')
  t.equal(seen['last-event-id'], 'e1')
  t.equal(seen.cookie, undefined, 'no client cookies')
  t.equal(seen['x-forwarded-for'], undefined)
  t.match(seen.authorization, /^Bearer ey/)

  const sse = await post('sse', call(3))
  t.equal(sse.statusCode, 200)
  t.match(sse.headers['content-type'], /^text\/event-stream/)
  t.match(sse.payload, /event: message\nid: e1\ndata: \{"jsonrpc":"2.0","method":"notifications\/progress"/)
  t.match(sse.payload, /id: e2\ndata: \{"jsonrpc":"2.0","id":3,"result"/)
  t.notMatch(sse.payload, /keep-alive/, 'comments are not relayed')

  const notification = await post('accepted', { jsonrpc: '2.0', method: 'notifications/initialized' })
  t.equal(notification.statusCode, 202)
  t.equal(notification.payload, '')
  const backendError = await post('no-session', call(4))
  t.equal(backendError.statusCode, 404, 'a backend\'s own JSON-RPC refusal is relayed')
  t.match(backendError.json(), { id: 4, error: { code: -32001 } })
})

t.test('tools/list shows only the tools the caller may use, in JSON and in event streams; a hidden tool is refused', async t => {
  const { post, mint, backend, logLines } = await setup(t)
  const reader = await mint('json', { scope: ['mcp:read'], groups: [] })
  const admin = await mint('json', { scope: ['mcp:read', 'mcp:write'], groups: ['admins'] })
  const names = (body: any): string[] => body.result.tools.map((x: { name: string }) => x.name)
  t.same(names((await post('json', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, {}, reader)).json()), ['echo'])
  t.same(names((await post('json', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, {}, admin)).json()), ['echo', 'admin-reset', 'deploy-prod'])
  const streamed = await post('sse', { jsonrpc: '2.0', id: 'l', method: 'tools/list' }, {}, await mint('sse', { scope: ['mcp:read'] }))
  const data = streamed.payload.split('\n').filter(line => line.startsWith('data: ')).map(line => JSON.parse(line.slice(6)))
  t.same(names(data.find(m => m.id === 'l')), ['echo'], 'filtered inside the event stream too')

  const before = backend.received.length
  for (const tool of ['admin-reset', 'deploy-prod']) {
    const denied = await post('json', { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: tool, arguments: {} } }, {}, reader)
    t.equal(denied.statusCode, 200)
    t.same(denied.json(), { jsonrpc: '2.0', id: 9, error: { code: -32602, message: `Unknown tool: ${tool}` } })
  }
  const nameless = await post('json', { jsonrpc: '2.0', id: 10, method: 'tools/call', params: { arguments: {} } }, {}, reader)
  t.equal(nameless.statusCode, 400)
  t.match(nameless.json(), { id: 10, error: { code: -32602 } })
  t.equal(backend.received.length, before, 'no refused call reached the backend')
  t.ok(logLines.some(line => line.includes('"audit":"gateway.tool_denied"') && line.includes('"tool":"admin-reset"')))
})

t.test('faults: JSON-RPC errors under the request id with 502/503/504, within the timeout, never a 500', async t => {
  const { post, logLines } = await setup(t)
  const cases: Array<[string, number, RegExp]> = [
    ['down', 503, /unreachable/],
    ['slow', 504, /did not answer within 300 ms/],
    ['slow-body', 504, /did not finish its answer within 300 ms/],
    ['garbage', 502, /malformed JSON/],
    ['oversized', 502, /exceeds 2048 bytes/],
    ['html', 502, /"text\/html", not JSON or an event stream/],
    ['redirect', 502, /redirect \(302\)/],
    ['unauthorized', 502, /refused gatehouse's credentials \(401\)/],
    ['failing', 502, /failed \(500\)/],
    ['busy', 503, /unavailable \(503\)/],
    ['gateway-timeout', 504, /timed out \(504\)/],
    ['cut', 502, /cut off/]
  ]
  for (const [name, status, message] of cases) {
    const started = Date.now()
    const res = await post(name, call(`${name}-id`))
    const elapsed = Date.now() - started
    t.equal(res.statusCode, status, `${name}: ${status}`)
    t.match(res.json(), { jsonrpc: '2.0', id: `${name}-id`, error: { code: -32603, message } }, `${name}: JSON-RPC error`)
    t.notMatch(res.payload, /secret\/internal|boom/, `${name}: nothing of the backend's own text`)
    t.ok(elapsed < 1500, `${name}: answered in ${elapsed} ms`)
  }
  const audited = logLines.filter(line => line.includes('"audit":"gateway.call"')).map(line => JSON.parse(line))
  t.ok(audited.some(e => e.backend === 'slow' && e.outcome === 'timeout' && e.status === 504))
  t.ok(audited.some(e => e.backend === 'down' && e.outcome === 'unavailable'))
  t.ok(audited.some(e => e.backend === 'unauthorized' && e.outcome === 'refused'))
})

t.test('faults inside an event stream end it with the request\'s JSON-RPC error', async t => {
  const { post } = await setup(t)
  for (const [name, message] of [['sse-stall', /silent for 300 ms/], ['sse-huge', /exceeds 2048 bytes/], ['sse-cut', /broke off/]] as const) {
    const started = Date.now()
    const res = await post(name, call(7))
    t.equal(res.statusCode, 200, `${name}: the stream had started`)
    const last = res.payload.trim().split('\n').filter(line => line.startsWith('data: ')).at(-1) ?? ''
    t.match(JSON.parse(last.slice(6)), { jsonrpc: '2.0', id: 7, error: { code: -32603, message } }, name)
    t.ok(Date.now() - started < 1500, `${name}: in time`)
  }
})

t.test('what the transport refuses: batches, non-JSON-RPC, bad JSON, wrong content type', async t => {
  const { post, app, mint, backend } = await setup(t)
  const forwardedBefore = backend.received.length
  // MCP 2025-03-26 (or no version header, which means 2025-03-26) has batches: the gateway does not forward them.
  for (const version of [{ 'mcp-protocol-version': '2025-03-26' }, {}] as Array<Record<string, string>>) {
    const batch = await post('json', [call(1), call(2)], version)
    t.equal(batch.statusCode, 400)
    t.same(batch.json(), { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: this gateway does not forward JSON-RPC batches; send each message in its own request' } }, 'JSON-RPC 2.0 §6: one error for the whole batch, id null')
  }
  // Later revisions have no batches at all.
  for (const version of ['2025-06-18', '2025-11-25', '2026-07-28']) {
    const batch = await post('json', [call(1)], { 'mcp-protocol-version': version })
    t.equal(batch.statusCode, 400)
    t.same(batch.json(), { jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid Request: JSON-RPC batches do not exist in protocol version ${version}` } })
  }
  t.same((await post('json', [])).json().error.code, -32600, 'an empty batch too')
  t.equal(backend.received.length, forwardedBefore, 'no batch reached the backend')
  t.match((await post('json', { id: 1, method: 'ping' })).json(), { error: { code: -32600 } })
  t.equal((await post('json', '{"jsonrpc":')).statusCode, 400)
  const text = await app.inject({ method: 'POST', url: '/mcp/json', headers: { authorization: `Bearer ${await mint('json')}`, 'content-type': 'text/plain' }, payload: 'hi' })
  t.equal(text.statusCode, 415)
  const origin = await post('json', call(1), { origin: 'https://evil.example' })
  t.equal(origin.statusCode, 403, 'a foreign Origin')
  const otherBackend = await post('sse', call(1), {}, await mint('json'))
  t.equal(otherBackend.statusCode, 401, 'RFC 8707: a token for one backend is refused at another')
  t.match(otherBackend.headers['www-authenticate'], /error="invalid_token".*oauth-protected-resource\/mcp\/sse"/)
})

t.test('GET and DELETE are forwarded with the session; the backend\'s answer is relayed', async t => {
  const { app, mint, backend } = await setup(t)
  const token = await mint('json')
  const opened = await app.inject({ method: 'POST', url: '/mcp/json', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(call(1)) })
  const session = opened.headers['mcp-session-id'] as string
  const get = await app.inject({ method: 'GET', url: '/mcp/sse', headers: { authorization: `Bearer ${await mint('sse')}`, accept: 'text/event-stream' } })
  t.equal(get.statusCode, 200)
  t.equal(backend.received.at(-1)?.method, 'GET')
  const del = await app.inject({ method: 'DELETE', url: '/mcp/json', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': session } })
  t.equal(del.statusCode, 200)
  t.equal(backend.received.at(-1)?.method, 'DELETE')
  t.equal(backend.received.at(-1)?.headers['mcp-session-id'], 'backend-session-1')
})

t.test('a backend\'s scopes and groups gate the whole backend (403 with the challenge)', async t => {
  const backend = await startFakeBackend(t)
  const { app, config } = await buildTestApp(t, { env: { GATEHOUSE_BACKENDS: JSON.stringify({ ops: { url: `${backend.origin}/json`, scopes: ['mcp:write'], groups: ['admins'] } }) } })
  const { ctx } = app.gatehouse
  const mint = async (scope: string[], groups: string[]) => (await mintToken({ config, store: ctx.store, keys: ctx.keys, cipher: ctx.cipher, clock: ctx.clock }, { resource: `${config.publicUrl}/mcp/ops`, scope, groups })).token
  const send = async (token: string) => await app.inject({ method: 'POST', url: '/mcp/ops', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(call(1)) })
  const noScope = await send(await mint(['mcp:read'], ['admins']))
  t.equal(noScope.statusCode, 403)
  t.match(noScope.headers['www-authenticate'], /error="insufficient_scope".*scope="mcp:read mcp:write".*resource_metadata=".*\/\.well-known\/oauth-protected-resource\/mcp\/ops"/)
  const noGroup = await send(await mint(['mcp:read', 'mcp:write'], ['engineering']))
  t.equal(noGroup.statusCode, 403)
  t.equal(noGroup.json().error, 'access_denied')
  t.equal((await send(await mint(['mcp:read', 'mcp:write'], ['admins']))).statusCode, 200)
  t.equal(backend.received.length, 1, 'only the allowed call was forwarded')
  const empty = await app.inject({ method: 'POST', url: '/mcp/ops', headers: { authorization: 'Bearer ', 'content-type': 'application/json' }, payload: '{}' })
  t.equal(empty.statusCode, 401)
  t.match(empty.headers['www-authenticate'], /invalid_token/)
})
