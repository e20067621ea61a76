import t from 'tap'
import { QueryCommand } from '@aws-sdk/client-dynamodb'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { datasetPartition } from '../../src/store/keys.ts'
import { StoreConflictError } from '../../src/ports/store.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0, code, datasetRecord, fullClient, grant, minimalClient, refreshToken, transaction } from './fixtures.ts'

const clock = createFakeClock(T0)
const { store, endpoint, table } = await startTestStore(t, { clock })

t.test('saveClient refuses an id that exists and keeps the first registration', async t => {
  const first = fullClient()
  await store.saveClient(first)
  await t.rejects(store.saveClient(minimalClient({ clientId: first.clientId })), StoreConflictError)
  t.strictSame(await store.findClient(first.clientId), first)
})

t.test('codes, grants, refresh tokens and transactions are create-only, so a re-save cannot erase consumedAt, revokedAt or usedAt', async t => {
  const cd = code()
  await store.saveCode(cd)
  await store.consumeCode(cd.codeHash, 'grant-1', T0 + 1)
  await t.rejects(store.saveCode(cd), StoreConflictError)
  t.equal((await store.findCode(cd.codeHash))?.consumedAt, T0 + 1)

  const g = grant()
  await store.saveGrant(g)
  await store.revokeGrant(g.grantId, T0 + 1)
  await t.rejects(store.saveGrant(g), StoreConflictError)
  t.equal((await store.findGrant(g.grantId))?.revokedAt, T0 + 1)

  const rt = refreshToken()
  await store.saveRefreshToken(rt)
  await store.markRefreshTokenUsed(rt.tokenHash, T0 + 1)
  await t.rejects(store.saveRefreshToken(rt), StoreConflictError)
  t.equal((await store.findRefreshToken(rt.tokenHash))?.usedAt, T0 + 1)

  const tx = transaction()
  await store.saveTransaction(tx)
  await t.rejects(store.saveTransaction(tx), StoreConflictError)
})

t.test('revokeGrant is visible to findGrant, idempotent, and keeps the first revocation time', async t => {
  const g = grant()
  await store.saveGrant(g)
  await store.revokeGrant(g.grantId, T0 + 10)
  t.strictSame(await store.findGrant(g.grantId), { ...g, revokedAt: T0 + 10 }, 'the revoked grant is still returned, with revokedAt')
  await store.revokeGrant(g.grantId, T0 + 20)
  t.equal((await store.findGrant(g.grantId))?.revokedAt, T0 + 10)
})

t.test('revokeGrant of an unknown grant is a no-op and creates nothing', async t => {
  await store.revokeGrant('no-such-grant', T0)
  t.equal(await store.findGrant('no-such-grant'), undefined)
})

t.test('updateGrantUpstream replaces the sealed tokens of a live grant', async t => {
  const g = grant()
  await store.saveGrant(g)
  t.equal(await store.updateGrantUpstream(g.grantId, 'sealed-2', T0 + 7200), true)
  t.strictSame(await store.findGrant(g.grantId), { ...g, upstreamSealed: 'sealed-2', upstreamExpiresAt: T0 + 7200 })
  t.equal(await store.updateGrantUpstream(g.grantId, 'sealed-3', undefined), true)
  const after = await store.findGrant(g.grantId)
  t.equal(after?.upstreamSealed, 'sealed-3')
  t.notOk(after && 'upstreamExpiresAt' in after, 'an unknown upstream expiry removes the old one')
})

t.test('updateGrantUpstream is refused once the grant is revoked, and for an unknown grant', async t => {
  const g = grant()
  await store.saveGrant(g)
  await store.revokeGrant(g.grantId, T0 + 1)
  t.equal(await store.updateGrantUpstream(g.grantId, 'sealed-after-revoke', T0 + 9999), false)
  t.equal((await store.findGrant(g.grantId))?.upstreamSealed, g.upstreamSealed, 'the old sealed value is untouched')
  t.equal(await store.updateGrantUpstream('no-such-grant', 'x', undefined), false)
  t.equal(await store.findGrant('no-such-grant'), undefined, 'no grant is conjured by an update')
})

t.test('dataset records round-trip through put and list; a duplicate id is a conflict', async t => {
  const a = datasetRecord({ visibleTo: [] })
  const b = datasetRecord({ value: -3, category: 'ops' })
  await store.putDatasetRecord(a)
  await store.putDatasetRecord(b)
  await t.rejects(store.putDatasetRecord({ ...a, title: 'other' }), StoreConflictError)
  const listed = await store.listDatasetRecords()
  t.equal(listed.length, 2)
  t.strictSame(listed.find(r => r.id === a.id), a)
  t.strictSame(listed.find(r => r.id === b.id), b)
})

t.test('listDatasetRecords pages through more than one DynamoDB page', async t => {
  // 1 MB is a page: 40 rows of ~30 KB force at least one continuation.
  const big = 'x'.repeat(30_000)
  const rows = Array.from({ length: 40 }, (_, i) => datasetRecord({ id: `bulk-${String(i).padStart(3, '0')}`, title: big }))
  for (const row of rows) await store.putDatasetRecord(row)
  const raw = createDynamoClient({ region: 'us-east-1', endpoint })
  t.teardown(() => raw.destroy())
  const firstPage = await raw.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: datasetPartition() } } }))
  t.ok(firstPage.LastEvaluatedKey, 'the rows do not fit in one page')
  const listed = await store.listDatasetRecords()
  t.equal(listed.filter(r => r.id.startsWith('bulk-')).length, rows.length)
})

t.test('ping succeeds against a reachable table', async t => {
  await t.resolves(store.ping())
})
