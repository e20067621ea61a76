// End to end with the official MCP TypeScript SDK client (Client + StreamableHTTPClientTransport) against
// the app on a real loopback port, bearer token in the request headers.
import t, { type Test } from 'tap'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js'
import { buildMcpApp } from './helpers.ts'
import { TOOL_FORBIDDEN } from '../../src/mcp/server.ts'

async function connect (t: Test, url: string, token: string | undefined): Promise<Client> {
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }
  })
  await client.connect(transport)
  t.teardown(() => client.close())
  return client
}

t.test('MCP lifecycle over streamable HTTP: initialize, tools/list, tools/call with the official client', async t => {
  const built = await buildMcpApp(t, { listen: true })
  const { token } = await built.mint({ sub: 'alice', email: 'alice@example.com', groups: ['engineering', 'admins'] })
  const client = await connect(t, built.url, token)
  t.equal(client.getServerVersion()?.name, 'gatehouse')
  t.equal((client.transport as StreamableHTTPClientTransport).protocolVersion, LATEST_PROTOCOL_VERSION, 'negotiated the latest version')
  t.match((client.transport as StreamableHTTPClientTransport).sessionId, /^gh1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/, 'a session id from initialize, which the client sends from now on')
  const { tools } = await client.listTools()
  t.same(tools.map(x => x.name).sort(), ['add_record', 'query_data', 'whoami'])
  const me = await client.callTool({ name: 'whoami', arguments: {} })
  t.match(me.structuredContent, { sub: 'alice', email: 'alice@example.com', groups: ['engineering', 'admins'], client_id: 'test-client' })
  const added = await client.callTool({ name: 'add_record', arguments: { id: 'e2e-1', title: 'From the SDK client', category: 'engineering', value: 3, visible_to: ['engineering'] } })
  t.notOk(added.isError)
  const rows = await client.callTool({ name: 'query_data', arguments: { text: 'sdk client' } })
  t.same((rows.structuredContent as { rows: Array<{ id: string }> }).rows.map(r => r.id), ['e2e-1'])
  t.same(await client.ping(), {})
  // Sessions cannot be ended early (nothing is stored to end): DELETE is 405, which the client accepts.
  await (client.transport as StreamableHTTPClientTransport).terminateSession()
})

t.test('the official client sees a groups denial as an McpError with the forbidden code', async t => {
  const built = await buildMcpApp(t, { listen: true })
  const { token } = await built.mint({ sub: 'bob', groups: [], scope: ['mcp:read', 'mcp:write'] })
  const client = await connect(t, built.url, token)
  const error = await client.callTool({ name: 'add_record', arguments: { id: 'b-1', title: 't', category: 'x', value: 1 } }).then(() => undefined, (e: unknown) => e)
  t.type(error, McpError)
  t.equal((error as McpError).code, TOOL_FORBIDDEN)
  t.equal((error as McpError).message, 'MCP error -32003: tool add_record is not available to your groups', 'issue 12 (5): the client adds its prefix once')
})

t.test('without a token the official client cannot connect: 401 carries the resource metadata URL', async t => {
  const built = await buildMcpApp(t, { listen: true })
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' })
  const error = await client.connect(new StreamableHTTPClientTransport(new URL(`${built.url}/mcp`))).then(() => undefined, (e: unknown) => e)
  t.type(error, StreamableHTTPError)
  t.equal((error as StreamableHTTPError).code, 401)
  const res = await fetch(`${built.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })
  const prm = /resource_metadata="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1]
  t.equal(prm, `${built.url}/.well-known/oauth-protected-resource/mcp`)
  const metadata = await (await fetch(prm!)).json() as { resource: string, scopes_supported: string[] }
  t.equal(metadata.resource, `${built.url}/mcp`, 'RFC 9728: the document names this resource')
  t.same(metadata.scopes_supported, ['mcp:read', 'mcp:write'])
})

t.test('CORS preflight from an allowed browser origin exposes WWW-Authenticate (browser-based MCP clients)', async t => {
  const built = await buildMcpApp(t, { listen: true, env: { ALLOWED_ORIGINS: 'https://inspector.example' } })
  const res = await fetch(`${built.url}/mcp`, { method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' } })
  t.equal(res.status, 204)
  t.equal(res.headers.get('access-control-allow-origin'), 'https://inspector.example')
  const denied = await fetch(`${built.url}/mcp`, { method: 'POST', headers: { origin: 'https://inspector.example', 'content-type': 'application/json', accept: 'application/json' }, body: '{}' })
  t.match(denied.headers.get('access-control-expose-headers') ?? '', /www-authenticate/)
})
