// Design decisions 3 and 4: single-use transitions have exactly one winner under concurrency, because
// each is one conditional write. Callers are spread over several clients (separate connection pools),
// as concurrent Lambda instances would be.
import t from 'tap'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createFakeClock, startTestStore, storeClient } from '../support/store.ts'
import { T0, code, refreshToken, transaction } from './fixtures.ts'

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

t.test('consumeCode (RFC 6749 §4.1.2): 50 concurrent redemptions, one winner, losers see the winner\'s grantId', async t => {
  const cd = code()
  await store.saveCode(cd)
  const results = await callers((s, i) => s.consumeCode(cd.codeHash, `grant-${i}`, T0 + 1))
  const winners = results.filter(r => r.won)
  t.equal(winners.length, 1)
  const winnerGrant = winners[0]?.record?.grantId
  t.match(winnerGrant, /^grant-\d+$/)
  t.strictSame(winners[0]?.record, { ...cd, consumedAt: T0 + 1, grantId: winnerGrant })
  const losers = results.filter(r => !r.won)
  t.equal(losers.length, CALLERS - 1)
  t.ok(losers.every(r => r.record?.grantId === winnerGrant), 'every loser learns which grant to revoke')
  t.equal((await store.findCode(cd.codeHash))?.grantId, winnerGrant)
})

t.test('consumeCode: a later replay loses and still sees the first grant', async t => {
  const cd = code()
  await store.saveCode(cd)
  t.equal((await store.consumeCode(cd.codeHash, 'grant-first', T0 + 1)).won, true)
  const replay = await store.consumeCode(cd.codeHash, 'grant-second', T0 + 2)
  t.equal(replay.won, false)
  t.equal(replay.record?.grantId, 'grant-first')
  t.equal(replay.record?.consumedAt, T0 + 1)
})

t.test('consumeCode: an unknown code loses with no record', async t => {
  t.strictSame(await store.consumeCode('no-such-code', 'grant-x', T0), { won: false })
})

t.test('markRefreshTokenUsed (RFC 9700 §4.14.2 rotation): 50 concurrent uses, one winner, losers see it used', async t => {
  const rt = refreshToken()
  await store.saveRefreshToken(rt)
  const results = await callers(s => s.markRefreshTokenUsed(rt.tokenHash, T0 + 5))
  const winners = results.filter(r => r.won)
  t.equal(winners.length, 1)
  t.strictSame(winners[0]?.record, { ...rt, usedAt: T0 + 5 })
  t.ok(results.filter(r => !r.won).every(r => r.record?.usedAt === T0 + 5), 'losers see the token as used: reuse')
})

t.test('markRefreshTokenUsed: a token used once is reuse on every later use', async t => {
  const rt = refreshToken()
  await store.saveRefreshToken(rt)
  t.equal((await store.markRefreshTokenUsed(rt.tokenHash, T0 + 1)).won, true)
  const again = await store.markRefreshTokenUsed(rt.tokenHash, T0 + 2)
  t.equal(again.won, false)
  t.equal(again.record?.usedAt, T0 + 1, 'the first use time is kept')
})
