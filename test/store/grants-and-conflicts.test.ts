import t from 'tap'
import { QueryCommand } from '@aws-sdk/client-dynamodb'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { datasetPartition } from '../../src/store/keys.ts'
import { StoreConflictError } from '../../src/ports/store.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0, code, datasetRecord, fullClient, grant, grantRefreshToken, minimalClient, redemption, refreshToken, rotation, transaction } from './fixtures.ts'

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
  await store.consumeCode(cd.codeHash, redemption(cd), T0 + 1)
  await t.rejects(store.saveCode(cd), StoreConflictError)
  t.equal((await store.findCode(cd.codeHash))?.consumedAt, T0 + 1)

  const g = grant()
  await store.saveGrant(g)
  await store.revokeGrant(g.grantId, T0 + 1)
  await t.rejects(store.saveGrant(g), StoreConflictError)
  t.equal((await store.findGrant(g.grantId))?.revokedAt, T0 + 1)

  const rt = refreshToken()
  await store.saveRefreshToken(rt)
  await store.markRefreshTokenUsed(rt.tokenHash, T0 + 1, 'rotation-stamp')
  await t.rejects(store.saveRefreshToken(rt), StoreConflictError)
  t.equal((await store.findRefreshToken(rt.tokenHash))?.usedAt, T0 + 1)

  const tx = transaction()
  await store.saveTransaction(tx)
  await t.rejects(store.saveTransaction(tx), StoreConflictError)
})

t.test('revokeGrant is visible to findGrant, idempotent, and keeps the first revocation time', async t => {
  const g = grant()
  await store.saveGrant(g)
  t.equal(await store.revokeGrant(g.grantId, T0 + 10), true, 'this call revoked it')
  t.strictSame(await store.findGrant(g.grantId), { ...g, revokedAt: T0 + 10 }, 'the revoked grant is still returned, with revokedAt')
  t.equal(await store.revokeGrant(g.grantId, T0 + 20), false, 'again: already revoked')
  t.equal((await store.findGrant(g.grantId))?.revokedAt, T0 + 10)
})

t.test('revokeGrant of an unknown grant is a no-op and creates nothing', async t => {
  t.equal(await store.revokeGrant('no-such-grant', T0), false)
  t.equal(await store.findGrant('no-such-grant'), undefined)
})

t.test('rotateRefreshToken replaces the token, keeps the retired list it is given, and stores refreshed upstream tokens', async t => {
  const current = grantRefreshToken()
  const g = grant({ refreshToken: current, retiredRefreshTokens: [] })
  await store.saveGrant(g)
  t.strictSame(await store.findGrant(g.grantId), g, 'a grant round-trips with its refresh token')
  const first = rotation(current)
  const rotated = await store.rotateRefreshToken(g.grantId, current.tokenHash, first, T0 + 1)
  t.equal(rotated.won, true)
  t.strictSame(await store.findGrant(g.grantId), { ...g, refreshToken: first.next, retiredRefreshTokens: first.retired, lastUsedAt: T0 + 1 })
  const second = rotation(first.next, { upstream: { sealed: 'sealed-2', expiresAt: T0 + 7200 } })
  t.equal((await store.rotateRefreshToken(g.grantId, first.next.tokenHash, second, T0 + 2)).won, true)
  t.strictSame(await store.findGrant(g.grantId), { ...g, refreshToken: second.next, retiredRefreshTokens: second.retired, lastUsedAt: T0 + 2, upstreamSealed: 'sealed-2', upstreamExpiresAt: T0 + 7200 })
  const third = rotation(second.next, { upstream: { sealed: 'sealed-3', expiresAt: undefined } })
  t.equal((await store.rotateRefreshToken(g.grantId, second.next.tokenHash, third, T0 + 3)).won, true)
  const after = await store.findGrant(g.grantId)
  t.equal(after?.upstreamSealed, 'sealed-3')
  t.notOk(after && 'upstreamExpiresAt' in after, 'an unknown upstream expiry removes the old one')
})

t.test('rotateRefreshToken is refused for a token that is not the current one, once the grant is revoked, and for an unknown grant', async t => {
  const current = grantRefreshToken()
  const g = grant({ refreshToken: current, retiredRefreshTokens: [] })
  await store.saveGrant(g)
  const stale = await store.rotateRefreshToken(g.grantId, 'not-the-current-hash', rotation(current), T0 + 1)
  t.equal(stale.won, false)
  t.strictSame(stale.record, g, 'the loser sees the grant, unchanged')
  t.equal((await store.rotateRefreshToken(g.grantId, undefined, rotation(undefined), T0 + 1)).won, false, 'a grant that holds a token cannot be given one as if it had none')
  await store.revokeGrant(g.grantId, T0 + 1)
  t.equal((await store.rotateRefreshToken(g.grantId, current.tokenHash, rotation(current, { upstream: { sealed: 'after-revoke', expiresAt: undefined } }), T0 + 2)).won, false)
  t.strictSame(await store.findGrant(g.grantId), { ...g, revokedAt: T0 + 1 }, 'the revoked grant is untouched')
  t.strictSame(await store.rotateRefreshToken('no-such-grant', current.tokenHash, rotation(current), T0), { won: false })
  t.strictSame(await store.rotateRefreshToken('no-such-grant', undefined, rotation(undefined), T0), { won: false })
  t.equal(await store.findGrant('no-such-grant'), undefined, 'no grant is conjured by an update')
})

t.test('rotateRefreshToken without a presented hash moves a grant whose token is a legacy item onto the new form, once', async t => {
  const g = grant()
  await store.saveGrant(g)
  const moved = rotation(undefined)
  t.equal((await store.rotateRefreshToken(g.grantId, undefined, moved, T0 + 1)).won, true)
  t.strictSame((await store.findGrant(g.grantId))?.refreshToken, moved.next)
  t.equal((await store.rotateRefreshToken(g.grantId, undefined, rotation(undefined), T0 + 2)).won, false, 'a second time is refused')
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
