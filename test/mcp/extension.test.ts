// The endpoint's extension path (src/mcp/extension.ts) with the conformance fixtures registered, over real
// loopback HTTP, and what the production app (no extension) answers instead: in the legacy era, requests to
// the client on the tools/call response stream, answered by a later POST of the same caller only; in
// 2026-07-28, multi-round-trip results with a signed requestState, notifications before the result on an
// event stream, no requests to the client. Also the 413/415 refusals' JSON-RPC codes per era (issue 13).
import t from 'tap'
import { buildMcpApp, MCP_HEADERS, post, rpc } from './helpers.ts'
import { conformanceFixtures, signState, verifyState } from '../support/conformance-fixtures.ts'

const V = '2026-07-28'
const META = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} }

function modern (method: string, params: Record<string, unknown> = {}, id: string | number = 1, meta: Record<string, unknown> = {}): { body: Record<string, unknown>, headers: Record<string, string> } {
  const target = params.name ?? params.uri
  const name: Record<string, string> = typeof target === 'string' ? { 'mcp-name': target } : {}
  return { body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...META, ...meta } } }, headers: { 'mcp-protocol-version': V, 'mcp-method': method, ...name } }
}

/** The JSON-RPC messages of a text/event-stream body. */
const events = (body: string): Array<Record<string, unknown>> =>
  body.split('\n\n').filter(e => e.includes('data: ')).map(e => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as Record<string, unknown>)

/** Reads SSE messages from a streaming fetch response as they arrive. */
function reader (res: Response): () => Promise<Record<string, unknown> | undefined> {
  const stream = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  return async () => {
    for (;;) {
      const end = buffer.indexOf('\n\n')
      if (end !== -1) {
        const event = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        return JSON.parse(event.slice(event.indexOf('data: ') + 6)) as Record<string, unknown>
      }
      const { value, done } = await stream.read()
      if (done) return undefined
      buffer += value
    }
  }
}

t.test('without an extension (production): no reference fixtures in either era', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint({ scope: ['mcp:read', 'mcp:write'] })
  const tools = (await post(built.app, token, rpc('tools/list'))).json().result.tools.map((x: { name: string }) => x.name)
  t.notOk(tools.some((name: string) => name.startsWith('test_')), 'tools/list has no test_* tools')
  t.match((await post(built.app, token, rpc('tools/call', { name: 'test_simple_text', arguments: {} }))).json(), { error: { code: -32602, message: 'Unknown tool: test_simple_text' } })
  t.match((await post(built.app, token, rpc('resources/list'))).json(), { error: { code: -32601 } })
  const init = (await post(built.app, token, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } }))).json()
  t.same(init.result.capabilities, { tools: { listChanged: false } }, 'initialize declares tools only')
  const call = modern('tools/call', { name: 'test_simple_text', arguments: {} })
  t.match((await post(built.app, token, call.body, call.headers)).json(), { error: { code: -32602 } })
  const prompts = modern('prompts/list')
  const res = await post(built.app, token, prompts.body, prompts.headers)
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: { code: -32601 } })
})

t.test('413 and 415 answer with the era\'s JSON-RPC code: -32600 for 2026-07-28, -32000 for the legacy era', async t => {
  const built = await buildMcpApp(t)
  const { token } = await built.mint()
  const big = JSON.stringify({ ...modern('tools/list').body, pad: 'x'.repeat(1024 * 1024) })
  const eras: Array<[string, Record<string, string>, number]> = [['2026-07-28', modern('tools/list').headers, -32600], ['2025-11-25', { 'mcp-protocol-version': '2025-11-25' }, -32000], ['no version header', { 'mcp-protocol-version': '' }, -32000]]
  for (const [era, headers, code] of eras) {
    const extra: Record<string, string> = { ...headers }
    if (extra['mcp-protocol-version'] === '') delete extra['mcp-protocol-version']
    const withoutVersion = (h: Record<string, string>): Record<string, string> => {
      const all: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...h }
      if (!('mcp-protocol-version' in extra)) delete all['mcp-protocol-version']
      return all
    }
    const tooLarge = await built.app.inject({ method: 'POST', url: '/mcp', headers: withoutVersion(extra), payload: big })
    t.equal(tooLarge.statusCode, 413, `${era}: 413`)
    t.same(tooLarge.json(), { jsonrpc: '2.0', id: null, error: { code, message: 'Request body exceeds 1048576 bytes' } }, `${era}: 413 is ${code}, id null (the body was not read)`)
    const form = await built.app.inject({ method: 'POST', url: '/mcp', headers: withoutVersion({ ...extra, 'content-type': 'application/x-www-form-urlencoded' }), payload: 'a=b' })
    t.equal(form.statusCode, 415, `${era}: 415`)
    t.same(form.json(), { jsonrpc: '2.0', id: null, error: { code, message: 'Unsupported Media Type: Content-Type must be application/json' } }, `${era}: 415 is ${code}`)
  }
  // A JSON-like type Fastify parses but the endpoint refuses: the endpoint's own 415, with the id.
  const patch = modern('tools/list', {}, 'p-1')
  const res = await post(built.app, token, patch.body, { ...patch.headers, 'content-type': 'application/json-patch+json' })
  t.equal(res.statusCode, 415)
})

t.test('legacy era with the fixtures: requests to the client on the response stream, answered by the same caller only', async t => {
  const built = await buildMcpApp(t, { listen: true, mcpExtension: conformanceFixtures() })
  const alice = (await built.mint({ sub: 'alice', scope: ['mcp:read'] })).token
  const mallory = (await built.mint({ sub: 'mallory', scope: ['mcp:read'] })).token
  const send = async (token: string, body: unknown) => await fetch(`${built.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: JSON.stringify(body) })

  const init = (await post(built.app, alice, rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } }))).json()
  t.match(init.result.capabilities, { tools: { listChanged: false }, resources: {}, prompts: {}, logging: {}, completions: {} }, 'initialize declares the fixtures\' capabilities')

  const res = await send(alice, { jsonrpc: '2.0', id: 'c-1', method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'hi' } } })
  t.equal(res.headers.get('content-type'), 'text/event-stream')
  const next = reader(res)
  const asked = await next()
  t.match(asked, { jsonrpc: '2.0', method: 'sampling/createMessage', params: { maxTokens: 100, messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }] } })
  const askedId = asked?.id as string
  t.match(askedId, /^gatehouse-[0-9a-f-]{36}$/, 'an unguessable id')

  const answer = { role: 'assistant', content: { type: 'text', text: 'from alice' }, model: 'm' }
  const stolen = await send(mallory, { jsonrpc: '2.0', id: askedId, result: { ...answer, content: { type: 'text', text: 'from mallory' } } })
  t.equal(stolen.status, 202, 'another caller\'s answer is acknowledged…')
  const unknown = await send(alice, { jsonrpc: '2.0', id: 'gatehouse-unknown', result: answer })
  t.equal(unknown.status, 202, 'and so is an answer to nothing')
  const numeric = await send(alice, { jsonrpc: '2.0', id: 5, result: answer })
  t.equal(numeric.status, 202)
  const given = await send(alice, { jsonrpc: '2.0', id: askedId, result: answer })
  t.equal(given.status, 202)
  t.same(await next(), { jsonrpc: '2.0', id: 'c-1', result: { content: [{ type: 'text', text: 'LLM response: from alice' }] } }, '…but only the asking caller\'s reaches the tool')
  t.equal(await next(), undefined, 'the stream ends with the response')

  // An error answer, and an answer that is not an object, reach the tool as failures.
  for (const [reply, shown] of [[{ error: { code: -1, message: 'declined' } }, 'declined'], [{ result: 'no' }, 'is not an object'], [{ error: 'odd' }, 'error']] as const) {
    const call = await send(alice, { jsonrpc: '2.0', id: 'c-2', method: 'tools/call', params: { name: 'test_elicitation', arguments: { message: 'name?' } } })
    const read = reader(call)
    const request = await read()
    t.match(request, { method: 'elicitation/create', params: { message: 'name?' } })
    await send(alice, { jsonrpc: '2.0', id: request?.id, ...reply })
    t.match(await read(), { id: 'c-2', result: { content: [{ type: 'text', text: new RegExp(`^Elicitation not supported or error: .*${shown}`) }] } })
  }

  // Notifications precede the result; a client that goes away ends the exchange.
  const progress = await (await send(alice, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p' } } })).text()
  t.same(events(progress).map(e => (e.params as { progress?: number } | undefined)?.progress ?? e.id), [0, 50, 100, 3])
  const controller = new AbortController()
  const gone = await fetch(`${built.url}/mcp`, { method: 'POST', signal: controller.signal, headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'test_elicitation_sep1034_defaults', arguments: {} } }) })
  const goneRequest = await reader(gone)()
  controller.abort()
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal((await send(alice, { jsonrpc: '2.0', id: goneRequest?.id, result: { action: 'accept' } })).status, 202, 'a late answer after the client left is dropped')

  // Multi-round-trip tools need 2026-07-28; a thrown non-RpcError shows nothing internal.
  const mrtr = events(await (await send(alice, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'test_input_required_result_elicitation', arguments: {} } })).text())
  t.match(mrtr, [{ id: 5, error: { code: -32602, message: /needs protocol version 2026-07-28/ } }])
  const resources = events(await (await send(alice, { jsonrpc: '2.0', id: 6, method: 'resources/read', params: { uri: 'test://nope' } })).text())
  t.match(resources, [{ id: 6, error: { code: -32602, data: { uri: 'test://nope' } } }])
})

t.test('2026-07-28 with the fixtures: input-required results, a signed requestState, notifications as an event stream', async t => {
  const built = await buildMcpApp(t, { mcpExtension: conformanceFixtures() })
  const { token } = await built.mint({ scope: ['mcp:read'] })
  const send = async (request: ReturnType<typeof modern>) => await post(built.app, token, request.body, request.headers)

  const discover = (await send(modern('server/discover'))).json().result
  t.match(discover.capabilities, { tools: { listChanged: false }, resources: {}, prompts: {}, completions: {} })

  const round1 = (await send(modern('tools/call', { name: 'test_input_required_result_multi_round', arguments: {} }))).json().result
  t.match(round1, { resultType: 'input_required', inputRequests: { step1: { method: 'elicitation/create' } }, requestState: /\./ })
  const accept = (content: Record<string, unknown>) => ({ action: 'accept', content })
  const round2 = (await send(modern('tools/call', { name: 'test_input_required_result_multi_round', arguments: {}, inputResponses: { step1: accept({ name: 'Ada' }) }, requestState: round1.requestState }))).json().result
  t.match(round2, { resultType: 'input_required', inputRequests: { step2: {} } })
  const done = (await send(modern('tools/call', { name: 'test_input_required_result_multi_round', arguments: {}, inputResponses: { step2: accept({ color: 'blue' }) }, requestState: round2.requestState }))).json()
  t.match(done.result, { resultType: 'complete', content: [{ text: 'Multi-round complete for Ada who likes blue' }] })

  const forged = `${Buffer.from(JSON.stringify({ round: 2, name: 'Eve' })).toString('base64url')}.${round1.requestState.split('.')[1]}`
  const tampered = await send(modern('tools/call', { name: 'test_input_required_result_multi_round', arguments: {}, inputResponses: { step2: accept({ color: 'red' }) }, requestState: forged }))
  t.equal(tampered.statusCode, 200)
  t.match(tampered.json(), { error: { code: -32602, message: 'requestState integrity check failed' } })
  t.throws(() => verifyState('a.b.c'), { code: -32602 })
  t.throws(() => verifyState(7), { code: -32602 })
  t.match(verifyState(signState({ kind: 'k' })), { kind: 'k' })
  t.match((await send(modern('tools/call', { name: 'test_input_required_result_elicitation', arguments: {}, inputResponses: null }))).json(), { error: { code: -32602 } }, 'null inputResponses: a protocol error')
  t.match((await send(modern('tools/call', { name: 'test_input_required_result_elicitation', arguments: {}, inputResponses: { user_name: 12345 } }))).json().result, { resultType: 'input_required' }, 'an answer that is not an object is asked again')

  const missing = await send(modern('tools/call', { name: 'test_missing_capability', arguments: {} }, 'm'))
  t.equal(missing.statusCode, 400)
  t.same(missing.json().error.data, { requiredCapabilities: { sampling: {} } })
  t.equal(missing.json().error.code, -32021)
  t.equal(missing.json().id, 'm')

  const progress = await send(modern('tools/call', { name: 'test_tool_with_progress', arguments: {} }, 9, { progressToken: 't' }))
  t.equal(progress.headers['content-type'], 'text/event-stream')
  t.match(events(progress.body), [{ method: 'notifications/progress' }, { method: 'notifications/progress' }, { method: 'notifications/progress' }, { id: 9, result: { resultType: 'complete' } }])
  const quiet = await send(modern('tools/call', { name: 'test_logging_tool', arguments: {} }))
  t.equal(quiet.headers['content-type'], 'application/json; charset=utf-8', 'no log level asked: no log messages, plain JSON')
  const sampling = (await send(modern('tools/call', { name: 'test_sampling', arguments: { prompt: 'x' } }))).json().result
  t.match(sampling.content[0].text, /this protocol version has no requests to the client/, 'no requests to the client in 2026-07-28')
  const removed = await send(modern('logging/setLevel', { level: 'info' }))
  t.equal(removed.statusCode, 404)
  t.equal(removed.json().error.code, -32601)
  t.match((await send(modern('resources/read', { uri: 'test://static-text' }))).json().result, { resultType: 'complete', ttlMs: 300000, cacheScope: 'private' })
})
