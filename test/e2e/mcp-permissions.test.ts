// Permissions end to end, with real tokens from the real flow: the official MCP SDK client logs in through
// consent and the development IdP as alice (engineering, admins) and as bob (no groups), sees different
// tools and rows, steps up from mcp:read to mcp:write on a 403, and loses access once its grant is revoked.
import t from 'tap'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startHarness, postForm } from '../support/oauth-harness.ts'
import { TestOAuthProvider, connectWithOAuth, formWalker, type BrowserWalk } from '../support/mcp-oauth-client.ts'

const text = (result: unknown): any => JSON.parse(((result as { content: Array<{ text: string }> }).content[0] as { text: string }).text)

t.test('alice and bob see different tools and rows; step-up from mcp:read to mcp:write; revocation reaches /mcp', async t => {
  const h = await startHarness(t, { env: { GRANT_CACHE_TTL: '0' } })
  const mcpUrl = `${h.url}/mcp`

  const alice = await connectWithOAuth(mcpUrl, new TestOAuthProvider(formWalker('alice', 'alice')))
  t.teardown(() => alice.close())
  const bobProvider = new TestOAuthProvider(formWalker('bob', 'bob'))
  const bob = await connectWithOAuth(mcpUrl, bobProvider)
  t.teardown(() => bob.close())

  const toolNames = async (client: typeof alice): Promise<string[]> => (await client.listTools()).tools.map(x => x.name).sort()
  t.same(await toolNames(alice), ['add_record', 'query_data', 'whoami'], 'alice (admins) may write')
  t.same(await toolNames(bob), ['query_data', 'whoami'], 'bob (no groups) may not')

  const rowsOf = async (client: typeof alice): Promise<string[]> => text(await client.callTool({ name: 'query_data', arguments: { limit: 100 } })).rows.map((r: { id: string }) => r.id)
  const aliceRows = await rowsOf(alice)
  const bobRows = await rowsOf(bob)
  t.ok(aliceRows.includes('eng-001') && aliceRows.includes('adm-001'), 'alice sees engineering and admins rows')
  t.notOk(bobRows.some(id => id.startsWith('eng-') || id.startsWith('adm-') || id.startsWith('fin-')), 'bob sees only rows open to everyone')
  t.ok(bobRows.length > 0 && bobRows.length < aliceRows.length)

  // Step-up: a client that was granted only mcp:read gets 403 insufficient_scope on add_record; the official
  // client re-authorizes with the scopes the challenge names and the call then succeeds. (This client takes
  // no refresh tokens: SDK 1.32, holding one, tries a refresh instead — which can never widen a grant,
  // RFC 6749 §6 — and gives up with "403 after trying upscoping".)
  let first = true
  const walk = formWalker('alice', 'alice')
  const narrowingWalk: BrowserWalk = async (url, redirect) => {
    if (first) { url.searchParams.set('scope', 'mcp:read'); first = false }
    return await walk(url, redirect)
  }
  const readerProvider = new TestOAuthProvider(narrowingWalk, { refreshTokens: false })
  const reader = await connectWithOAuth(mcpUrl, readerProvider)
  t.teardown(() => reader.close())
  t.equal(readerProvider.tokens()?.scope, 'mcp:read', 'first grant: read only')
  const record = { id: 'e2e-step-up', title: 'added after step-up', category: 'engineering', value: 1, visible_to: ['admins'] }
  let stepUp: unknown
  try { await reader.callTool({ name: 'add_record', arguments: record }) } catch (error) { stepUp = error }
  t.type(stepUp, UnauthorizedError, 'the 403 sent the client through authorization again')
  const stepUpUrl = readerProvider.authorizationUrls[1] as URL
  t.equal(stepUpUrl.searchParams.get('scope'), 'mcp:read mcp:write', 'it asked for the scopes the challenge named')
  const transport = (reader as unknown as { transport: StreamableHTTPClientTransport }).transport
  await transport.finishAuth(readerProvider.code())
  t.equal(readerProvider.tokens()?.scope, 'mcp:read mcp:write')
  const added = await reader.callTool({ name: 'add_record', arguments: record })
  t.notOk(added.isError, JSON.stringify(added))
  t.ok((await rowsOf(alice)).includes('e2e-step-up'), 'the row was written')

  // Revocation: bob's client revokes its refresh token; its access token stops working at /mcp at once
  // (GRANT_CACHE_TTL=0 here; with the default it takes at most 30 s).
  const revoked = await postForm(h.as.revocation_endpoint as string, { token: bobProvider.tokens()?.refresh_token as string, client_id: bobProvider.clientInformation()?.client_id as string })
  t.equal(revoked.status, 200)
  const after = await fetch(mcpUrl, { method: 'POST', headers: { authorization: `Bearer ${bobProvider.tokens()?.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' })
  t.equal(after.status, 401)
  t.match(after.headers.get('www-authenticate'), /error="invalid_token"/)
})
