import t from 'tap'
import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { clientKey, codeKey } from '../../src/store/keys.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0, code, consent, fullClient, grant, identity, minimalClient, refreshToken, transaction } from './fixtures.ts'

const clock = createFakeClock(T0)
const { store, endpoint, table } = await startTestStore(t, { clock })

t.test('a client round-trips exactly, with every optional field and with none', async t => {
  const full = fullClient()
  const minimal = minimalClient()
  await store.saveClient(full)
  await store.saveClient(minimal)
  t.strictSame(await store.findClient(full.clientId), full)
  const found = await store.findClient(minimal.clientId)
  t.strictSame(found, minimal)
  t.notOk(found && 'clientSecretHash' in found, 'an absent optional field stays absent')
})

t.test('a client that never expires is stored without a TTL attribute (a 0 TTL would be 1970)', async t => {
  const client = fullClient()
  await store.saveClient(client)
  const raw = createDynamoClient({ region: 'us-east-1', endpoint })
  t.teardown(() => raw.destroy())
  const { pk, sk } = clientKey(client.clientId)
  const out = await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }))
  t.ok(out.Item, 'the item is under CLIENT#<id>')
  t.equal(out.Item?.expiresAt, undefined)
  t.equal(out.Item?.kind?.S, 'client')
})

t.test('a record that expires carries expiresAt as a number (the TTL attribute)', async t => {
  const c = code()
  await store.saveCode(c)
  const raw = createDynamoClient({ region: 'us-east-1', endpoint })
  t.teardown(() => raw.destroy())
  const { pk, sk } = codeKey(c.codeHash)
  const out = await raw.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }))
  t.strictSame(out.Item?.expiresAt, { N: String(c.expiresAt) })
  t.strictSame(out.Item?.identity?.M?.groups, { L: [{ S: 'staff' }, { S: 'admins' }] }, 'nested identity is a map with a list')
})

t.test('a transaction round-trips, with and without state and upstream', async t => {
  const withUpstream = transaction({ upstream: { codeVerifier: 'v'.repeat(43), nonce: 'n0nce' } })
  const bare = transaction()
  delete bare.state
  await store.saveTransaction(withUpstream)
  await store.saveTransaction(bare)
  t.strictSame(await store.findTransaction(withUpstream.id), withUpstream)
  t.strictSame(await store.findTransaction(bare.id), bare)
})

t.test('an authorization code round-trips, with and without upstream tokens and consumption', async t => {
  const full = code({ consumedAt: T0 + 1, grantId: 'grant-x' })
  const bare = code({ identity: { sub: 'user-2', groups: [] } })
  delete bare.upstreamSealed
  delete bare.upstreamExpiresAt
  await store.saveCode(full)
  await store.saveCode(bare)
  t.strictSame(await store.findCode(full.codeHash), full)
  t.strictSame(await store.findCode(bare.codeHash), bare)
})

t.test('a grant round-trips, with and without upstream tokens and revocation', async t => {
  const full = grant({ revokedAt: T0 + 5 })
  const bare = grant({ identity: { sub: 'user-3', groups: [] } })
  delete bare.upstreamSealed
  delete bare.upstreamExpiresAt
  await store.saveGrant(full)
  await store.saveGrant(bare)
  t.strictSame(await store.findGrant(full.grantId), full)
  t.strictSame(await store.findGrant(bare.grantId), bare)
})

t.test('a refresh token round-trips, used and unused', async t => {
  const used = refreshToken({ usedAt: T0 + 10 })
  const fresh = refreshToken()
  await store.saveRefreshToken(used)
  await store.saveRefreshToken(fresh)
  t.strictSame(await store.findRefreshToken(used.tokenHash), used)
  t.strictSame(await store.findRefreshToken(fresh.tokenHash), fresh)
})

t.test('a consent round-trips and a newer consent for the same user and client replaces it', async t => {
  const first = consent()
  await store.saveConsent(first)
  t.strictSame(await store.findConsent(first.sub, first.clientId), first)
  const second = { ...first, scope: ['mcp:read', 'mcp:write'], createdAt: T0 + 100 }
  await store.saveConsent(second)
  t.strictSame(await store.findConsent(first.sub, first.clientId), second)
  t.equal(await store.findConsent('someone-else', first.clientId), undefined, 'consent is per user')
})

t.test('unknown ids are absent', async t => {
  t.equal(await store.findClient('nope'), undefined)
  t.equal(await store.findTransaction('nope'), undefined)
  t.equal(await store.findCode('nope'), undefined)
  t.equal(await store.findGrant('nope'), undefined)
  t.equal(await store.findRefreshToken('nope'), undefined)
  t.equal(await store.findConsent('nope', 'nope'), undefined)
})

t.test('strings with unicode, an empty string and fractional numbers survive', async t => {
  const client = fullClient({ clientName: 'Ünïcødé ✓ 名前', softwareVersion: '', createdAt: T0 })
  await store.saveClient(client)
  t.strictSame(await store.findClient(client.clientId), client)
  t.same(identity.groups, ['staff', 'admins'], 'fixtures are not mutated by saving')
})
