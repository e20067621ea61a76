// MCP 2026-07-28 end to end (issue 13): the official v2 client (@modelcontextprotocol/client 2.4.0), in
// "auto" mode and pinned to 2026-07-28, starts from nothing but the /mcp URL, goes through the real OAuth
// flow (registration, consent, the development IdP's login form) as alice and as bob, and lists and calls
// tools statelessly. Every request it sends is recorded, so the test also proves it never fell back to
// `initialize` and that each POST carried the 2026 headers.
import t, { type Test } from 'tap'
import { Client, ProtocolError, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client'
import { startHarness } from '../support/oauth-harness.ts'
import { TestOAuthProvider, formWalker } from '../support/mcp-oauth-client.ts'

type Mode = 'auto' | { pin: string }

interface Sent { method: string | null, version: string | null, status: number }

async function connectV2 (t: Test, mcpUrl: string, provider: TestOAuthProvider, mode: Mode): Promise<{ client: Client, sent: Sent[] }> {
  const sent: Sent[] = []
  const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init)
    if (new URL(input instanceof Request ? input.url : input).pathname === '/mcp') {
      const headers = new Headers(init?.headers)
      sent.push({ method: headers.get('mcp-method'), version: headers.get('mcp-protocol-version'), status: response.status })
    }
    return response
  }
  const client = new Client({ name: 'gatehouse-e2e-v2', version: '1.0.0' }, { versionNegotiation: { mode } })
  t.teardown(() => client.close())
  const transport = () => new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider as never, fetch: recording })
  const first = transport()
  try {
    await client.connect(first)
    return { client, sent }
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error
  }
  provider.code()
  // The whole callback query, so that the client checks gatehouse's `iss` (RFC 9207) before redeeming the code.
  await first.finishAuth((provider.lastRedirect as URL).searchParams)
  await client.connect(transport())
  return { client, sent }
}

const json = (result: unknown): any => JSON.parse(((result as { content: Array<{ text: string }> }).content[0] as { text: string }).text)

for (const mode of ['auto', { pin: '2026-07-28' }] as const) {
  t.test(`v2 client (${typeof mode === 'string' ? mode : `pinned ${mode.pin}`}): real OAuth as alice and bob, then stateless 2026-07-28 tools/list and tools/call`, async t => {
    const h = await startHarness(t)
    const mcpUrl = `${h.url}/mcp`
    const alice = await connectV2(t, mcpUrl, new TestOAuthProvider(formWalker('alice', 'alice')), mode)
    const bob = await connectV2(t, mcpUrl, new TestOAuthProvider(formWalker('bob', 'bob')), mode)
    for (const { client } of [alice, bob]) {
      t.equal(client.getNegotiatedProtocolVersion(), '2026-07-28', 'the modern era was negotiated')
      t.equal(client.getServerVersion()?.name, 'gatehouse')
    }
    const names = async (client: Client) => (await client.listTools()).tools.map(x => x.name)
    t.same(await names(alice.client), ['whoami', 'query_data', 'add_record'], 'alice (admins): the write tool too, in the registration order')
    t.same(await names(bob.client), ['whoami', 'query_data'], 'bob (no groups): read tools only')
    t.match(json(await alice.client.callTool({ name: 'whoami', arguments: {} })), { email: /^alice@/, groups: ['engineering', 'admins'] })
    t.match(json(await bob.client.callTool({ name: 'whoami', arguments: {} })), { email: /^bob@/, groups: [] })
    const added = await alice.client.callTool({ name: 'add_record', arguments: { id: 'v2-1', title: 'From the v2 client', category: 'engineering', value: 1, visible_to: ['admins'] } })
    t.notOk(added.isError, JSON.stringify(added))
    const rows = async (client: Client) => json(await client.callTool({ name: 'query_data', arguments: { limit: 100 } })).rows.map((r: { id: string }) => r.id)
    t.ok((await rows(alice.client)).includes('v2-1'), 'alice sees the row she wrote')
    t.notOk((await rows(bob.client)).includes('v2-1'), 'bob does not (visible to admins only)')
    const denied = await bob.client.callTool({ name: 'add_record', arguments: { id: 'v2-2', title: 'x', category: 'x', value: 1 } }).then(() => undefined, (error: unknown) => error)
    t.type(denied, ProtocolError, 'bob calling the admins-only tool gets a protocol error')
    t.equal((denied as ProtocolError).code, -32602, 'in the 2026 era: Invalid params, not the legacy -32003')
    t.match((denied as Error).message, /tool add_record is not available to your groups/)
    t.notMatch((denied as Error).message, /MCP error -\d+: MCP error/, 'no doubled prefix')

    for (const { sent } of [alice, bob]) {
      const authorized = sent.filter(s => s.status !== 401)
      t.notOk(authorized.some(s => s.method === 'initialize' || s.method === null), 'no initialize and no request without Mcp-Method: the client never fell back')
      t.ok(authorized.every(s => s.version === '2026-07-28'), 'every request carried MCP-Protocol-Version: 2026-07-28')
      t.ok(authorized.some(s => s.method === 'tools/call'))
    }
  })
}
