// The gateway in front of a real third-party MCP server: the official reference server
// (@modelcontextprotocol/server-everything, a child process with stateful sessions) behind a recording proxy,
// reached by the official MCP SDK client through gatehouse's real OAuth flow with resource=<public>/mcp/everything.
// What the backend receives proves no token passthrough (MCP authorization, "Token Passthrough"): never the
// client's token, always gatehouse's own short-lived JWT for the backend's URL, verifiable through /jwks.json.
import t from 'tap'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { startHarness } from '../support/oauth-harness.ts'
import { TestOAuthProvider, connectWithOAuth, formWalker } from '../support/mcp-oauth-client.ts'
import { startEverythingServer } from '../support/everything-server.ts'
import { startRecordingProxy } from '../support/recording-proxy.ts'

t.test('the official MCP client reaches server-everything through the gateway: OAuth, initialize, tools, no passthrough', async t => {
  const everything = await startEverythingServer(t)
  const proxy = await startRecordingProxy(t, everything.url)
  const backendUrl = `${proxy.origin}/mcp`
  const logLines: string[] = []
  const h = await startHarness(t, {
    logLines,
    env: {
      SCOPES: 'mcp:read,mcp:write,mcp:admin',
      DEFAULT_SCOPES: 'mcp:read,mcp:write',
      GATEHOUSE_BACKENDS: JSON.stringify({
        everything: {
          url: backendUrl,
          title: 'Everything reference server',
          tools: { 'get-env': { groups: ['nobody'] }, 'get-sum': { groups: ['admins'] }, 'trigger-*': { scopes: ['mcp:admin'] } }
        }
      })
    }
  })
  const resource = `${h.url}/mcp/everything`

  const provider = new TestOAuthProvider(formWalker('alice', 'alice'))
  const client = await connectWithOAuth(resource, provider)
  t.teardown(() => client.close())
  t.equal(provider.authorizationUrls[0]?.searchParams.get('resource'), resource, 'the SDK asks for the backend resource it discovered')
  const clientToken = provider.tokens()?.access_token as string
  t.equal(JSON.parse(Buffer.from(clientToken.split('.')[1] as string, 'base64url').toString()).aud, resource)

  const { tools } = await client.listTools()
  const names = tools.map(tool => tool.name)
  t.ok(names.includes('echo'), 'echo is listed')
  t.ok(names.includes('get-sum'), 'alice is in admins: get-sum is listed')
  t.notOk(names.includes('get-env'), 'a tool no group may use is hidden')
  t.notOk(names.some(name => name.startsWith('trigger-')), 'trigger-* needs mcp:admin, which the challenge did not ask for')

  const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through the gateway' } })
  t.match((echoed.content as Array<{ text: string }>)[0]?.text, /through the gateway/)
  const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })
  t.match(JSON.stringify(sum.content), /5/)
  const hidden = await client.callTool({ name: 'get-env', arguments: {} }).catch((error: unknown) => error)
  t.match(hidden, { code: -32602, message: /Unknown tool: get-env/ }, 'calling a hidden tool is a JSON-RPC error')
  t.notOk(proxy.requests.some(r => r.body.includes('"get-env"')), 'the hidden call never reached the backend')

  // What the backend saw: gatehouse's JWT, never the client's token.
  t.ok(proxy.requests.length >= 4, 'initialize, initialized, tools/list and calls went through')
  for (const recorded of proxy.requests) {
    t.notOk(JSON.stringify(recorded.headers).includes(clientToken) || recorded.body.includes(clientToken), `${recorded.method} ${recorded.body.slice(0, 40)}: no client token`)
  }
  const authorization = proxy.requests.at(-1)?.headers.authorization as string
  t.match(authorization, /^Bearer ey/)
  const jwks = createRemoteJWKSet(new URL(`${h.url}/jwks.json`))
  const { payload, protectedHeader } = await jwtVerify(authorization.slice(7), jwks, { issuer: h.url, audience: backendUrl, algorithms: ['RS256'] })
  t.equal(protectedHeader.alg, 'RS256')
  t.equal(payload.sub, '6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01', 'sub is alice')
  t.equal(payload.email, 'alice@example.com')
  t.same([...(payload.groups as string[])].sort(), ['admins', 'engineering'])
  t.equal(payload.scope, 'mcp:read mcp:write', 'the scope the challenge named')
  t.equal(payload.client_id, provider.clientInformation()?.client_id)
  t.same(payload.act, { sub: provider.clientInformation()?.client_id }, 'RFC 8693 act names the client')
  t.ok((payload.exp as number) - (payload.iat as number) <= 300, 'lives at most 300 s')
  t.notOk('gid' in payload, 'no grant id: the backend token is no gatehouse access token')

  // The backend's session id never reaches the client; what the client holds is bound to its grant.
  const backendSession = proxy.requests.at(-1)?.headers['mcp-session-id'] as string
  t.ok(backendSession, 'the backend got its own session id back')
  const transport = (client as unknown as { transport?: { sessionId?: string } }).transport
  t.ok(transport?.sessionId, 'the client has a session')
  t.not(transport?.sessionId, backendSession, 'the client holds a sealed id, not the backend\'s')

  const events = logLines.map(line => JSON.parse(line) as Record<string, unknown>).filter(line => typeof line.audit === 'string')
  t.ok(events.some(e => e.audit === 'gateway.call' && e.method === 'tools/call' && e.tool === 'echo' && e.outcome === 'ok' && e.backend === 'everything' && e.sub === payload.sub && typeof e.duration_ms === 'number'), 'the echo call is audited')
  t.ok(events.some(e => e.audit === 'gateway.tool_denied' && e.tool === 'get-env'), 'the hidden call is audited')
  t.notOk(logLines.some(line => line.includes(clientToken) || line.includes(authorization.slice(7))), 'no token in the log')
})
