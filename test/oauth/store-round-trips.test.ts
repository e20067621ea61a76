// Issue 17: how many store round trips (DynamoDB requests) the token endpoint makes for an authorization
// code exchange and for a refresh, counted at the wire by a proxy in front of the embedded emulator
// (test/support/aws-proxy.ts). BENCHMARKS.md reports these numbers; the test pins them, so a change that
// adds a round trip to the token path shows up here. Each trip is named by its operation and the kind of
// item it addresses (the key's prefix), so the pin says what each one is for.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { authorize, exchangeCode, registerClient, startHarness, type Harness, type RegisteredClient } from '../support/oauth-harness.ts'
import { startTestStore } from '../support/store.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { SYSTEM_CLOCK } from '../../src/ports/clock.ts'
import { randomToken, sha256 } from '../../src/oauth/secrets.ts'

const backing = await startTestStore(t)
const proxy = await startAwsProxy(backing.endpoint)
t.teardown(() => proxy.close())
const client = createDynamoClient({ region: 'us-east-1', endpoint: proxy.endpoint, timeoutMs: 3000 })
t.teardown(() => client.destroy())
const store = { ...backing, store: new DynamoStore({ client, table: backing.table, clock: SYSTEM_CLOCK, timeoutMs: 3000 }) }

/** The requests the proxy saw while `run` ran, in order, as `<operation> <key prefix>`. */
async function trips (run: () => Promise<unknown>): Promise<string[]> {
  const before = proxy.requests.length
  await run()
  return proxy.requests.slice(before).map(r => {
    const pk = (r.body.Key as { pk?: { S?: string } } | undefined)?.pk?.S ?? (r.body.Item as { pk?: { S?: string } } | undefined)?.pk?.S ?? ''
    return `${r.operation} ${pk.split('#')[0] ?? ''}`
  })
}

async function refresh (h: Harness, registered: RegisteredClient, refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.refreshTokenGrantRequest(h.as, registered.client, registered.auth, refreshToken, h.options)
  return await oauth.processRefreshTokenResponse(h.as, registered.client, response)
}

const EXCHANGE = ['GetItem CLIENT', 'UpdateItem CODE', 'PutItem GRANT']
const REFRESH = ['GetItem CLIENT', 'GetItem GRANT', 'UpdateItem GRANT']

t.test('store round trips of POST /token: 3 for authorization_code, 3 for refresh_token', async t => {
  const h = await startHarness(t, { store })
  const registered = await registerClient(h)
  let tokens: oauth.TokenEndpointResponse | undefined
  const authorized = await authorize(h, registered.client)
  const exchange = await trips(async () => { tokens = await exchangeCode(h, registered, authorized) })
  t.comment(`code exchange, a new client's first: ${exchange.length} round trips: ${exchange.join(', ')}`)
  t.same(exchange, EXCHANGE, 'authenticate the client, check and consume the code (one conditional write that returns it), the grant with its refresh token')

  let rotated: oauth.TokenEndpointResponse | undefined
  const first = await trips(async () => { rotated = await refresh(h, registered, tokens!.refresh_token!) })
  t.comment(`refresh: ${first.length} round trips: ${first.join(', ')}`)
  t.same(first, REFRESH, 'authenticate the client, read the grant (the token names it), rotate + last use in one conditional write')
  t.same(await trips(() => refresh(h, registered, rotated!.refresh_token!)), REFRESH, 'the next refresh: the same')

  const again = await authorize(h, registered.client)
  t.same(await trips(() => exchangeCode(h, registered, again)), EXCHANGE, 'the same client\'s next exchange: its expiry is not due, no client write')

  // A second process (a cold Lambda) has no cache of anything: the counts are the store's, not a cache's.
  const cold = await startHarness(t, { store })
  const third = await authorize(cold, registered.client)
  let coldTokens: oauth.TokenEndpointResponse | undefined
  t.same(await trips(async () => { coldTokens = await exchangeCode(cold, registered, third) }), EXCHANGE, 'cold process: exchange')
  t.same(await trips(() => refresh(cold, registered, coldTokens!.refresh_token!)), REFRESH, 'cold process: refresh')
})

t.test('a legacy refresh token (its own item) costs 5 round trips once, then its grant is on the new form', async t => {
  const h = await startHarness(t, { store })
  const registered = await registerClient(h)
  const tokens = await exchangeCode(h, registered, await authorize(h, registered.client))
  const gid = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid
  // The grant as it was before: no refresh token on it, the token an RT# item of its own (the old shape).
  const grant = await store.store.findGrant(gid)
  const legacyGrantId = `legacy-${randomToken(9)}`
  const { refreshToken: _current, retiredRefreshTokens: _retired, ...oldGrant } = { ...grant!, grantId: legacyGrantId }
  await store.store.saveGrant(oldGrant)
  const legacy = randomToken()
  const now = Math.floor(Date.now() / 1000)
  await client.send(new PutItemCommand({
    TableName: store.table,
    Item: {
      pk: { S: `RT#${sha256(legacy)}` }, sk: { S: `RT#${sha256(legacy)}` }, kind: { S: 'refresh_token' },
      tokenHash: { S: sha256(legacy) }, grantId: { S: legacyGrantId }, clientId: { S: registered.client.client_id },
      scope: { L: [{ S: 'mcp:read' }] }, createdAt: { N: String(now) }, expiresAt: { N: String(now + 3600) }
    }
  }))
  let moved: oauth.TokenEndpointResponse | undefined
  const legacyTrips = await trips(async () => { moved = await refresh(h, registered, legacy) })
  t.comment(`legacy refresh: ${legacyTrips.length} round trips: ${legacyTrips.join(', ')}`)
  t.same(legacyTrips, ['GetItem CLIENT', 'GetItem RT', 'GetItem GRANT', 'UpdateItem RT', 'UpdateItem GRANT'], 'client, legacy token, grant, mark it used, the grant gets a new-form token')
  t.same(await trips(() => refresh(h, registered, moved!.refresh_token!)), REFRESH, 'from then on, 3')
})

t.test('a refresh token of neither shape (<grantId>.<43-character secret>, or a legacy bare secret) costs no store read beyond the client', async t => {
  const h = await startHarness(t, { store })
  const registered = await registerClient(h)
  for (const malformed of ['.', 'a.b.c', `${randomToken(18)}.${randomToken()}.x`, `${randomToken(18)}.short`, 'GRANT#x.y', 'é.x']) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: malformed, client_id: registered.client.client_id })
    const answered = await trips(async () => {
      const res = await fetch(h.as.token_endpoint as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form })
      t.equal(((await res.json()) as { error?: string }).error, 'invalid_grant', `${malformed.slice(0, 12)}: invalid_grant`)
    })
    t.same(answered, ['GetItem CLIENT'], `${malformed.slice(0, 12)}: the client only`)
  }
})
