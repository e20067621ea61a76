// Secrets hygiene over a whole flow (registration, authorize with the real IdP, callback, token, refresh,
// introspect, /mcp, revoke): no token, code, secret, cookie value or Authorization header value appears in any
// log line, and none is stored in usable form in the table (only hashes, and upstream tokens sealed).
import t from 'tap'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { authorize, exchangeCode, postForm, registerClient, registerResourceServer, startHarness } from '../support/oauth-harness.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import type { GrantRecord } from '../../src/ports/records.ts'
import type { UpstreamTokens } from '../../src/ports/upstream.ts'

t.test('a whole flow leaves no secret in the logs and none usable in the store', async t => {
  const logLines: string[] = []
  const h = await startHarness(t, { logLines, env: { GRANT_CACHE_TTL: '0' } })
  const secrets = new Map<string, string>()
  const keep = (what: string, value: string | undefined | null): void => { if (value !== undefined && value !== null && value.length >= 8) secrets.set(value, what) }

  const pub = await registerClient(h)
  const conf = await registerResourceServer(h)
  keep('client secret', conf.secret)
  const basic = `Basic ${Buffer.from(`${conf.client.client_id}:${conf.secret}`).toString('base64')}`
  keep('Authorization header (Basic)', basic.slice(6))

  const auth = await authorize(h, pub.client)
  keep('authorization code', auth.redirect.searchParams.get('code'))
  keep('PKCE verifier', auth.verifier)
  for (const name of ['gatehouse-browser', 'gatehouse-consent']) keep(`cookie ${name}`, auth.cookies.get(name, '127.0.0.1'))
  const tokens = await exchangeCode(h, pub, auth)
  keep('access token', tokens.access_token)
  keep('access token signature', tokens.access_token.split('.')[2])
  keep('refresh token', tokens.refresh_token)

  const refreshed = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: pub.client.client_id })
  t.equal(refreshed.status, 200, 'refresh')
  keep('rotated access token', refreshed.body.access_token)
  keep('rotated refresh token', refreshed.body.refresh_token)
  // A refresh token is <grantId>.<secret>: the grant id is stored (it is the grant's key), the secret never.
  keep('refresh token secret', (tokens.refresh_token as string).split('.').at(-1))
  keep('rotated refresh token secret', (refreshed.body.refresh_token as string).split('.').at(-1))

  const introspected = await postForm(h.as.introspection_endpoint as string, { token: refreshed.body.access_token }, { authorization: basic })
  t.equal(introspected.body.active, true, 'introspect')

  const mcp = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${refreshed.body.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', cookie: `gatehouse-browser=${auth.cookies.get('gatehouse-browser') ?? ''}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) })
  t.equal(mcp.status, 200, '/mcp tool call')
  // A failing call too: refused requests are logged as well.
  const refused = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${tokens.refresh_token as string}`, 'content-type': 'application/json' }, body: '{}' })
  t.equal(refused.status, 401, 'a refused /mcp call')
  const badSecret = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token }, { authorization: `Basic ${Buffer.from(`${conf.client.client_id}:wrong-secret-value`).toString('base64')}` })
  t.equal(badSecret.status, 401, 'a refused client authentication')

  // The upstream tokens, as gatehouse holds them (sealed on the grant).
  const grantId = (JSON.parse(Buffer.from(refreshed.body.access_token.split('.')[1], 'base64url').toString()) as { gid: string }).gid
  const grant = await h.app.gatehouse.ctx.store.findGrant(grantId) as GrantRecord
  const upstream = JSON.parse(await h.app.gatehouse.ctx.cipher.open(grant.upstreamSealed as string, `grant:${grantId}`)) as UpstreamTokens
  keep('upstream access token', upstream.accessToken)
  keep('upstream refresh token', upstream.refreshToken)
  keep('upstream ID token', upstream.idToken)

  const revoked = await postForm(h.as.revocation_endpoint as string, { token: refreshed.body.refresh_token, client_id: pub.client.client_id })
  t.equal(revoked.status, 200, 'revoke')
  await new Promise(resolve => setTimeout(resolve, 100))

  t.ok(secrets.size >= 12, `${secrets.size} secret values collected`)
  t.ok(logLines.length > 20, `${logLines.length} log lines captured`)
  t.ok(logLines.some(l => l.includes('"audit":"grant.issued"')), 'the log has the audit events (so it really is the flow\'s log)')
  const inLogs: string[] = []
  for (const [value, what] of secrets) if (logLines.some(line => line.includes(value))) inLogs.push(what)
  t.same(inLogs, [], 'no secret value appears in any log line')
  t.notOk(logLines.some(l => /"authorization"\s*:\s*"(Bearer|Basic) /i.test(l)), 'no Authorization header value is logged')
  t.notOk(logLines.some(l => /"cookie"\s*:\s*"[^"[]/i.test(l)), 'no Cookie header value is logged')

  // The raw items, read from the emulator directly.
  const client = createDynamoClient({ region: 'us-east-1', endpoint: h.store.endpoint })
  t.teardown(() => client.destroy())
  const items = (await client.send(new ScanCommand({ TableName: h.store.table }))).Items ?? []
  t.ok(items.some(i => i.kind?.S === 'grant' && i.refreshToken?.M?.tokenHash?.S !== undefined) && items.some(i => i.kind?.S === 'code'), 'the table holds the flow\'s grant (with its refresh token) and code')
  const raw = JSON.stringify(items)
  const inStore: string[] = []
  for (const [value, what] of secrets) if (raw.includes(value)) inStore.push(what)
  t.same(inStore, [], 'no token, code, secret or upstream token is stored verbatim')
  const grantItem = items.find(i => i.kind?.S === 'grant')
  t.notMatch(grantItem?.upstreamSealed?.S ?? '', /eyJ/, 'the sealed upstream tokens are not a readable JWT')
})
