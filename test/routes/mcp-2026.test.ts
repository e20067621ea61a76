// POST /mcp speaking MCP 2026-07-28 (issue 13), raw requests through app.inject: the era chosen per request
// (basic/versioning), the request-metadata headers checked against the body (transports/streamable-http,
// "Server Validation"), the required `_meta` (basic/index), server/discover, caching hints, removed methods,
// subscriptions/listen, and each error's status, code, data and echoed id. Authorization is the legacy era's.
import t from 'tap'
import { buildMcpApp, post } from '../mcp/helpers.ts'

const V = '2026-07-28'
const META = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} }
const SERVER_INFO = { 'io.modelcontextprotocol/serverInfo': { name: 'gatehouse', version: '0.1.0' } }

function modern (method: string, params: Record<string, unknown> = {}, id: string | number = 1): { body: Record<string, unknown>, headers: Record<string, string> } {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {}
  return { body: { jsonrpc: '2.0', id, method, params: { _meta: META, ...params } }, headers: { 'mcp-protocol-version': V, 'mcp-method': method, ...name } }
}

t.test('MCP 2026-07-28 on POST /mcp', async t => {
  const built = await buildMcpApp(t)
  const alice = (await built.mint({ sub: 'alice', groups: ['admins'], scope: ['mcp:read', 'mcp:write'] })).token
  const bob = (await built.mint({ sub: 'bob', groups: [], scope: ['mcp:read', 'mcp:write'] })).token
  const send = async (request: ReturnType<typeof modern>, token: string | undefined = alice, extra: Record<string, string> = {}) =>
    await post(built.app, token, request.body, { ...request.headers, ...extra })

  t.test('server/discover: versions, capabilities, serverInfo in _meta, caching hints, the string id echoed', async t => {
    const res = await send(modern('server/discover', {}, 'd-1'))
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.same(res.json(), {
      jsonrpc: '2.0',
      id: 'd-1',
      result: { supportedVersions: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'], capabilities: { tools: { listChanged: false } }, ttlMs: 300000, cacheScope: 'private', resultType: 'complete', _meta: SERVER_INFO }
    })
    t.notOk(res.headers['mcp-session-id'], 'no session')
    const noClientInfo = await post(built.app, alice, { jsonrpc: '2.0', id: 2, method: 'server/discover', params: { _meta: { ...META, 'io.modelcontextprotocol/clientInfo': undefined } } }, modern('server/discover').headers)
    t.equal(noClientInfo.statusCode, 200, 'clientInfo is optional')
  })

  t.test('tools/list: per caller, the same order every time, "private" with a TTL; tools/call: a complete result', async t => {
    const list = async (token: string) => (await send(modern('tools/list'), token)).json().result
    const first = await list(alice)
    t.same(first.tools.map((x: { name: string }) => x.name), ['whoami', 'query_data', 'add_record'])
    t.same((await list(alice)).tools, first.tools, 'deterministic')
    t.match(first, { resultType: 'complete', ttlMs: 300000, cacheScope: 'private', _meta: SERVER_INFO })
    t.same((await list(bob)).tools.map((x: { name: string }) => x.name), ['whoami', 'query_data'], 'bob lacks the admins group')
    const call = await send(modern('tools/call', { name: 'whoami', arguments: {} }, 7))
    t.equal(call.statusCode, 200)
    t.match(call.json(), { id: 7, result: { resultType: 'complete', structuredContent: { sub: 'alice' }, _meta: SERVER_INFO } })
    t.notOk('isError' in call.json().result && call.json().result.isError)
  })

  t.test('header and body disagree → 400 -32020 HeaderMismatch, with the id', async t => {
    const base = modern('tools/call', { name: 'whoami', arguments: {} }, 'h')
    const cases: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      ['MCP-Protocol-Version differs from _meta', base.body, { ...base.headers, 'mcp-protocol-version': '2025-11-25' }],
      ['Mcp-Method missing', base.body, { ...base.headers, 'mcp-method': '' }],
      ['Mcp-Method differs', base.body, { ...base.headers, 'mcp-method': 'tools/list' }],
      ['Mcp-Name differs', base.body, { ...base.headers, 'mcp-name': 'add_record' }],
      ['Mcp-Name, base64 of another name', base.body, { ...base.headers, 'mcp-name': `=?base64?${Buffer.from('add_record').toString('base64')}?=` }],
      ['Mcp-Name, broken base64', base.body, { ...base.headers, 'mcp-name': '=?base64?@@@?=' }]
    ]
    for (const [name, body, headers] of cases) {
      const res = await post(built.app, alice, body, headers)
      t.equal(res.statusCode, 400, name)
      t.equal(res.json().error.code, -32020, name)
      t.equal(res.json().id, 'h', name)
    }
    const missingHeader = await built.app.inject({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-method': 'tools/list' }, payload: JSON.stringify(modern('tools/list').body) })
    t.equal(missingHeader.statusCode, 400, 'a modern _meta claim without MCP-Protocol-Version')
    t.equal(missingHeader.json().error.code, -32020)
    const noName = await post(built.app, alice, base.body, { 'mcp-protocol-version': V, 'mcp-method': 'tools/call' })
    t.equal(noName.json().error.code, -32020, 'Mcp-Name is required for tools/call')
    const encoded = await post(built.app, alice, base.body, { ...base.headers, 'mcp-name': `=?base64?${Buffer.from('whoami').toString('base64')}?=` })
    t.equal(encoded.statusCode, 200, 'the =?base64?…?= form is decoded before comparing')
  })

  t.test('unsupported version → 400 -32022 with data { supported, requested }', async t => {
    const request = modern('server/discover', {}, 301)
    const body = { ...request.body, params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } } }
    const res = await post(built.app, alice, body, { ...request.headers, 'mcp-protocol-version': 'v999.0.0' })
    t.equal(res.statusCode, 400)
    t.same(res.json(), { jsonrpc: '2.0', id: 301, error: { code: -32022, message: 'Unsupported protocol version', data: { supported: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'], requested: 'v999.0.0' } } })
  })

  t.test('required _meta keys missing → 400 -32602', async t => {
    const headers = modern('server/discover').headers
    for (const [name, params] of [
      ['no _meta', {}],
      ['no protocolVersion', { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } }],
      ['no clientCapabilities', { _meta: { 'io.modelcontextprotocol/protocolVersion': V } }]
    ] as const) {
      const res = await post(built.app, alice, { jsonrpc: '2.0', id: 104, method: 'server/discover', params }, headers)
      t.equal(res.statusCode, 400, name)
      t.equal(res.json().error.code, -32602, name)
      t.equal(res.json().id, 104, name)
    }
  })

  t.test('removed and unknown methods → 404 -32601 with the id', async t => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'prompts/list', 'unknown/method']) {
      const res = await send(modern(method, {}, 500))
      t.equal(res.statusCode, 404, method)
      t.same(res.json(), { jsonrpc: '2.0', id: 500, error: { code: -32601, message: 'Method not found' } }, method)
    }
  })

  t.test('subscriptions/listen: acknowledged (nothing to notify), then closed gracefully with a complete result', async t => {
    const res = await send(modern('subscriptions/listen', { notifications: { toolsListChanged: true } }, 9))
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/event-stream/)
    t.equal(res.headers['x-accel-buffering'], 'no')
    const frames = res.body.split('\n').filter(line => line.startsWith('data: ')).map(line => JSON.parse(line.slice(6)))
    t.same(frames, [
      { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 9 }, notifications: {} } },
      { jsonrpc: '2.0', id: 9, result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 9, ...SERVER_INFO } } }
    ])
  })

  t.test('JSON-RPC shape: notifications 202, responses and batches -32600, bad tools/call params -32602', async t => {
    const note = await post(built.app, alice, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { _meta: META } }, { 'mcp-protocol-version': V })
    t.equal(note.statusCode, 202)
    t.equal(note.body, '')
    const response = await post(built.app, alice, { jsonrpc: '2.0', id: 3, result: {} }, { 'mcp-protocol-version': V })
    t.equal(response.statusCode, 400)
    t.same(response.json().error.code, -32600)
    t.equal(response.json().id, 3)
    const batch = await post(built.app, alice, [modern('tools/list').body], { 'mcp-protocol-version': V })
    t.equal(batch.statusCode, 400)
    t.equal(batch.json().error.code, -32600)
    const nullId = await post(built.app, alice, { ...modern('tools/list').body, id: null }, modern('tools/list').headers)
    t.equal(nullId.json().error.code, -32600, 'the id must not be null')
    const params = await post(built.app, alice, { jsonrpc: '2.0', id: 4, method: 'tools/list', params: [] }, modern('tools/list').headers)
    t.equal(params.json().error.code, -32600)
    for (const params of [{ arguments: {} }, { name: 'whoami', arguments: [] }]) {
      const res = await send(modern('tools/call', params, 5))
      t.equal(res.json().error?.code, -32602, JSON.stringify(params))
    }
    const unknown = await send(modern('tools/call', { name: 'rm_rf', arguments: {} }, 6))
    t.same(unknown.json(), { jsonrpc: '2.0', id: 6, error: { code: -32602, message: 'Unknown tool: rm_rf' } })
    const html = await send(modern('tools/list', {}, 'a'), alice, { accept: 'text/html' })
    t.equal(html.statusCode, 406)
    t.same(html.json().error.code, -32600, 'no legacy -32000 in the 2026 era')
    t.equal(html.json().id, 'a')
  })

  t.test('authorization as in the legacy era: 401 with the challenge, 403 step-up, groups', async t => {
    const none = await post(built.app, undefined, modern('tools/list').body, modern('tools/list').headers)
    t.equal(none.statusCode, 401)
    t.match(none.headers['www-authenticate'], /^Bearer scope="[^"]+", resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"$/)
    const reader = (await built.mint({ scope: ['mcp:read'], groups: ['admins'] })).token
    const stepUp = await send(modern('tools/call', { name: 'add_record', arguments: { id: 'r-1', title: 't', category: 'x', value: 1 } }), reader)
    t.equal(stepUp.statusCode, 403)
    t.match(stepUp.headers['www-authenticate'], /error="insufficient_scope".*scope="mcp:read mcp:write"/)
    const forbidden = await send(modern('tools/call', { name: 'add_record', arguments: { id: 'b-1', title: 't', category: 'x', value: 1 } }, 8), bob)
    t.equal(forbidden.statusCode, 200)
    t.same(forbidden.json(), { jsonrpc: '2.0', id: 8, error: { code: -32602, message: 'tool add_record is not available to your groups' } })
  })

  t.test('the era is per request: a legacy request right after a modern one is served as before', async t => {
    const legacy = await post(built.app, alice, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25' })
    t.equal(legacy.statusCode, 200)
    t.notOk('resultType' in legacy.json().result, 'no 2026 fields in the legacy era')
    const init = await post(built.app, alice, { jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, { 'mcp-protocol-version': '2025-11-25' })
    t.equal(init.json().result.protocolVersion, '2025-11-25', 'initialize selects the legacy era, whatever it asks for')
  })
})
