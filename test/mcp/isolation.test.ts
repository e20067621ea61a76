// DESIGN decision 9: no answer can ever reach another request or user. One long-lived MCP server serves
// every request; these tests fire concurrent calls from two users with colliding JSON-RPC ids over real HTTP.
import t from 'tap'
import { buildMcpApp, MCP_HEADERS } from './helpers.ts'
import { RequestScopedTransport } from '../../src/mcp/transport.ts'

t.test('two users, 400 concurrent tools/call with the same JSON-RPC id: each gets only its own answers', async t => {
  const built = await buildMcpApp(t, { listen: true })
  const alice = await built.mint({ sub: 'alice', groups: ['engineering', 'admins'], scope: ['mcp:read', 'mcp:write'] })
  const bob = await built.mint({ sub: 'bob', groups: [], scope: ['mcp:read'] })
  const call = async (token: string, id: number | string, name: string, args: Record<string, unknown> = {}) => {
    const res = await fetch(`${built.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })
    })
    return { status: res.status, body: await res.json() as { id: unknown, result: { structuredContent: Record<string, unknown> } } }
  }
  const jobs: Array<Promise<void>> = []
  const failures: string[] = []
  for (let i = 0; i < 100; i++) {
    for (const [user, who] of [[alice, 'alice'], [bob, 'bob']] as const) {
      jobs.push(call(user.token, 1, 'whoami').then(({ status, body }) => {
        if (status !== 200 || body.id !== 1 || body.result.structuredContent.sub !== who) failures.push(`whoami ${who}: ${JSON.stringify(body)}`)
      }))
      // A slower tool (a store query) interleaved with the same id, so answers finish out of order.
      jobs.push(call(user.token, 1, 'query_data', { limit: 100 }).then(({ status, body }) => {
        const rows = body.result.structuredContent.rows as Array<{ id: string }>
        const sawEngineering = rows.some(r => r.id.startsWith('eng-'))
        if (status !== 200 || body.id !== 1 || sawEngineering !== (who === 'alice')) failures.push(`query_data ${who}: ${JSON.stringify(body).slice(0, 200)}`)
      }))
    }
  }
  await Promise.all(jobs)
  t.same(failures, [], 'every answer carried its own caller and its own id')
  t.equal(jobs.length, 400)
})

t.test('tools/list is per caller even when both callers hit the shared server at once', async t => {
  const built = await buildMcpApp(t, { listen: true })
  const admin = await built.mint({ sub: 'alice', groups: ['admins'], scope: ['mcp:read', 'mcp:write'] })
  const reader = await built.mint({ sub: 'bob', groups: [], scope: ['mcp:read'] })
  const list = async (token: string) => {
    const res = await fetch(`${built.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 'same', method: 'tools/list' }) })
    return ((await res.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map(x => x.name)
  }
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => list(i % 2 === 0 ? admin.token : reader.token).then(names => ({ admin: i % 2 === 0, names }))))
  t.ok(results.every(r => r.names.includes('add_record') === r.admin), 'add_record listed for the admin only, on every request')
})

t.test('RequestScopedTransport: colliding client ids are renumbered and answered to their own exchange, in any order', async t => {
  const transport = new RequestScopedTransport()
  const seen: Array<{ id: number, extra: unknown }> = []
  transport.onmessage = (message, extra) => { seen.push({ id: (message as { id: number }).id, extra }) }
  const first = transport.exchange([{ jsonrpc: '2.0', id: 1, method: 'ping' }], { authInfo: { token: '', clientId: 'a', scopes: [] } })
  const second = transport.exchange([{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 'x', method: 'ping' }], { authInfo: { token: '', clientId: 'b', scopes: [] } })
  t.equal(new Set(seen.map(s => s.id)).size, 3, 'the server sees three distinct ids')
  // Answer in reverse order, each result naming the internal id it answers.
  for (const { id } of [...seen].reverse()) await transport.send({ jsonrpc: '2.0', id, result: { internal: id } })
  const [a, b] = await Promise.all([first, second])
  t.same(a, [{ jsonrpc: '2.0', id: 1, result: { internal: seen[0]!.id } }])
  t.same(b, [{ jsonrpc: '2.0', id: 1, result: { internal: seen[1]!.id } }, { jsonrpc: '2.0', id: 'x', result: { internal: seen[2]!.id } }])
  t.equal(transport.inFlight, 0)
  await transport.send({ jsonrpc: '2.0', id: 999, result: {} })
  t.pass('a response for no pending request is dropped')
})

t.test('MCP 2026-07-28: two users, 400 concurrent stateless tools/call with the same id: each gets only its own answers', async t => {
  const built = await buildMcpApp(t, { listen: true })
  const alice = await built.mint({ sub: 'alice', groups: ['engineering', 'admins'], scope: ['mcp:read', 'mcp:write'] })
  const bob = await built.mint({ sub: 'bob', groups: [], scope: ['mcp:read'] })
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
  const call = async (token: string, name: string, args: Record<string, unknown> = {}) => {
    const res = await fetch(`${built.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name, authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: meta } })
    })
    return { status: res.status, body: await res.json() as { id: unknown, result: { resultType: string, structuredContent: Record<string, unknown> } } }
  }
  const failures: string[] = []
  const jobs: Array<Promise<void>> = []
  for (let i = 0; i < 100; i++) {
    for (const [user, who] of [[alice, 'alice'], [bob, 'bob']] as const) {
      jobs.push(call(user.token, 'whoami').then(({ status, body }) => {
        if (status !== 200 || body.id !== 1 || body.result.resultType !== 'complete' || body.result.structuredContent.sub !== who) failures.push(`whoami ${who}: ${JSON.stringify(body)}`)
      }))
      jobs.push(call(user.token, 'query_data', { limit: 100 }).then(({ status, body }) => {
        const rows = body.result.structuredContent.rows as Array<{ id: string }>
        if (status !== 200 || body.id !== 1 || rows.some(r => r.id.startsWith('eng-')) !== (who === 'alice')) failures.push(`query_data ${who}: ${JSON.stringify(body).slice(0, 200)}`)
      }))
    }
  }
  await Promise.all(jobs)
  t.same(failures, [], 'every answer carried its own caller and its own id')
  t.equal(jobs.length, 400)
})
