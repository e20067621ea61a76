// Design decisions 3 and 4: single-use transitions have exactly one winner under concurrency, because
// each is one conditional write. Callers are spread over several clients (separate connection pools),
// as concurrent Lambda instances would be.
import t from 'tap'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createFakeClock, startTestStore, storeClient } from '../support/store.ts'
import type { CodeRedemption } from '../../src/ports/store.ts'
import { T0, code, grant, grantRefreshToken, redemption, refreshToken, rotation, transaction } from './fixtures.ts'

const CALLERS = 50
const clock = createFakeClock(T0)
const { endpoint, table } = await startTestStore(t, { clock })

const stores = Array.from({ length: 5 }, () => {
  const { client, destroy } = storeClient(endpoint)
  t.teardown(destroy)
  return new DynamoStore({ client, table, clock, timeoutMs: 5000 })
})
const storeFor = (i: number): DynamoStore => stores[i % stores.length] as DynamoStore
const store = storeFor(0)
const callers = <T>(fn: (s: DynamoStore, i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: CALLERS }, (_, i) => fn(storeFor(i), i)))

t.test('consumeTransaction: 50 concurrent callers, exactly one gets the transaction, and it is gone', async t => {
  const tx = transaction()
  await store.saveTransaction(tx)
  const results = await callers(s => s.consumeTransaction(tx.id))
  const winners = results.filter(r => r !== undefined)
  t.equal(winners.length, 1)
  t.strictSame(winners[0], tx)
  t.equal(await store.findTransaction(tx.id), undefined)
})

t.test('markTransactionApproved: 50 concurrent callers, exactly one records its upstream values', async t => {
  const tx = transaction()
  await store.saveTransaction(tx)
  const results = await callers((s, i) => s.markTransactionApproved(tx.id, { codeVerifier: `verifier-${i}`, nonce: `nonce-${i}` }))
  const winners = results.filter(r => r.won)
  t.equal(winners.length, 1)
  const stored = await store.findTransaction(tx.id)
  t.strictSame(stored?.upstream, winners[0]?.record?.upstream, 'the stored upstream values are the winner\'s')
  t.strictSame(winners[0]?.record, { ...tx, upstream: stored?.upstream })
  const losers = results.filter(r => !r.won)
  t.equal(losers.length, CALLERS - 1)
  t.ok(losers.every(r => JSON.stringify(r.record) === JSON.stringify(stored)), 'losers see the approved transaction')
})

t.test('consumeCode (RFC 6749 §4.1.2): 50 concurrent redemptions, one winner, losers see the code consumed and its grantId', async t => {
  const cd = code()
  await store.saveCode(cd)
  const attempts = Array.from({ length: CALLERS }, () => redemption(cd))
  const results = await callers((s, i) => s.consumeCode(cd.codeHash, attempts[i] as CodeRedemption, T0 + 1))
  const winners = results.filter(r => r.won)
  t.equal(winners.length, 1)
  const stamp = attempts[results.findIndex(r => r.won)]?.consumedBy
  t.strictSame(winners[0]?.record, { ...cd, consumedAt: T0 + 1, consumedBy: stamp }, 'the winner gets the code from the write itself, with its stamp')
  const losers = results.filter(r => !r.won)
  t.equal(losers.length, CALLERS - 1)
  t.ok(losers.every(r => r.record?.consumedAt === T0 + 1 && r.record.grantId === cd.grantId), 'every loser learns which grant to revoke')
})

t.test('consumeCode: a later replay loses and still sees the first redemption', async t => {
  const cd = code()
  await store.saveCode(cd)
  t.equal((await store.consumeCode(cd.codeHash, redemption(cd), T0 + 1)).won, true)
  const replay = await store.consumeCode(cd.codeHash, redemption(cd), T0 + 2)
  t.equal(replay.won, false)
  t.equal(replay.record?.grantId, cd.grantId)
  t.equal(replay.record?.consumedAt, T0 + 1)
})

t.test('consumeCode: a request that does not match the code (client, PKCE, redirect_uri, resource) leaves it unconsumed', async t => {
  const cd = code()
  await store.saveCode(cd)
  for (const [what, overrides] of [
    ['client', { clientId: 'another-client' }],
    ['PKCE', { codeChallenge: 'x'.repeat(43) }],
    ['redirect_uri', { redirectUri: 'https://evil.example/cb' }],
    ['omitted redirect_uri where the request carried one', { redirectUri: undefined }],
    ['resource', { resource: 'https://gatehouse.example/mcp/other' }]
  ] as const) {
    const refused = await store.consumeCode(cd.codeHash, redemption(cd, overrides), T0 + 1)
    t.equal(refused.won, false, `${what}: refused`)
    t.strictSame(refused.record, cd, `${what}: the code is returned as it was, unconsumed`)
  }
  t.equal((await store.consumeCode(cd.codeHash, redemption(cd, { resource: undefined }), T0 + 2)).won, true, 'the matching request (resource left to the code) still redeems it')
})

t.test('consumeCode: a code whose request omitted redirect_uri is redeemed without one', async t => {
  const cd = code({ redirectUriOmitted: true })
  await store.saveCode(cd)
  t.equal((await store.consumeCode(cd.codeHash, redemption(cd, { redirectUri: undefined }), T0 + 1)).won, true)
})

t.test('consumeCode: an unknown code loses with no record', async t => {
  t.strictSame(await store.consumeCode('no-such-code', redemption(code()), T0), { won: false })
})

t.test('releaseCode undoes only the redemption that stamped consumedBy (another one in the same second is left alone)', async t => {
  const cd = code()
  await store.saveCode(cd)
  const mine = redemption(cd)
  t.equal((await store.consumeCode(cd.codeHash, mine, T0 + 1)).won, true)
  await store.releaseCode(cd.codeHash, redemption(cd).consumedBy)
  t.equal((await store.findCode(cd.codeHash))?.consumedBy, mine.consumedBy, 'another stamp: left consumed')
  await store.releaseCode(cd.codeHash, mine.consumedBy)
  t.strictSame(await store.findCode(cd.codeHash), cd, 'released: as before the redemption')
  t.equal((await store.consumeCode(cd.codeHash, redemption(cd), T0 + 1)).won, true, 'and redeemable once more')
  await store.releaseCode('no-such-code', mine.consumedBy)
  t.equal(await store.findCode('no-such-code'), undefined, 'releasing an unknown code creates nothing')
})

t.test('rotateRefreshToken (RFC 9700 §4.14.2): 50 concurrent rotations of one token, one winner, losers see the new token', async t => {
  const current = grantRefreshToken()
  const g = grant({ refreshToken: current, retiredRefreshTokens: [] })
  await store.saveGrant(g)
  const results = await callers(s => s.rotateRefreshToken(g.grantId, current.tokenHash, rotation(current), T0 + 1))
  const winners = results.filter(r => r.won)
  t.equal(winners.length, 1)
  const stored = await store.findGrant(g.grantId)
  t.strictSame(winners[0]?.record, stored)
  t.not(stored?.refreshToken?.tokenHash, current.tokenHash, 'the token was rotated')
  t.strictSame(stored?.retiredRefreshTokens, [{ tokenHash: current.tokenHash, expiresAt: current.expiresAt }], 'and the old one retired, once')
  t.equal(stored?.lastUsedAt, T0 + 1, 'the same write stamps the last use')
  const losers = results.filter(r => !r.won)
  t.equal(losers.length, CALLERS - 1)
  t.ok(losers.every(r => r.record?.refreshToken?.tokenHash === stored?.refreshToken?.tokenHash), 'every loser sees the token it lost to')
})

t.test('markRefreshTokenUsed (RFC 9700 §4.14.2 rotation): 50 concurrent uses, one winner, losers see it used', async t => {
  const rt = refreshToken()
  await store.saveRefreshToken(rt)
  const results = await callers((s, i) => s.markRefreshTokenUsed(rt.tokenHash, T0 + 5, `rotation-${i}`))
  const winners = results.filter(r => r.won)
  t.equal(winners.length, 1)
  t.strictSame(winners[0]?.record, { ...rt, usedAt: T0 + 5, usedBy: `rotation-${results.findIndex(r => r.won)}` }, 'the winner\'s stamp')
  t.ok(results.filter(r => !r.won).every(r => r.record?.usedAt === T0 + 5), 'losers see the token as used: reuse')
})

t.test('markRefreshTokenUsed: a token used once is reuse on every later use', async t => {
  const rt = refreshToken()
  await store.saveRefreshToken(rt)
  t.equal((await store.markRefreshTokenUsed(rt.tokenHash, T0 + 1, 'rotation-stamp')).won, true)
  const again = await store.markRefreshTokenUsed(rt.tokenHash, T0 + 2, 'rotation-stamp')
  t.equal(again.won, false)
  t.equal(again.record?.usedAt, T0 + 1, 'the first use time is kept')
})
