// DynamoDB's TTL deletes lazily (and dynalite never does), so the adapter itself must hide expired items
// and refuse single-use transitions on them. Expired means expiresAt <= now.
import t from 'tap'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0, code, consent, fullClient, grant, grantRefreshToken, redemption, refreshToken, rotation, transaction } from './fixtures.ts'

const clock = createFakeClock(T0)
const { store } = await startTestStore(t, { clock })

t.beforeEach(() => clock.set(T0))

t.test('every find treats an item as absent from the second it expires', async t => {
  const c = fullClient({ expiresAt: T0 + 10 })
  const tx = transaction({ expiresAt: T0 + 10 })
  const cd = code({ expiresAt: T0 + 10 })
  const g = grant({ expiresAt: T0 + 10 })
  const rt = refreshToken({ expiresAt: T0 + 10 })
  const cs = consent({ expiresAt: T0 + 10 })
  await store.saveClient(c)
  await store.saveTransaction(tx)
  await store.saveCode(cd)
  await store.saveGrant(g)
  await store.saveRefreshToken(rt)
  await store.saveConsent(cs)

  clock.set(T0 + 9)
  t.ok(await store.findClient(c.clientId), 'client live one second before')
  t.ok(await store.findTransaction(tx.id), 'transaction live one second before')
  t.ok(await store.findCode(cd.codeHash), 'code live one second before')
  t.ok(await store.findGrant(g.grantId), 'grant live one second before')
  t.ok(await store.findRefreshToken(rt.tokenHash), 'refresh token live one second before')
  t.ok(await store.findConsent(cs.sub, cs.clientId), 'consent live one second before')

  clock.set(T0 + 10)
  t.equal(await store.findClient(c.clientId), undefined, 'client')
  t.equal(await store.findTransaction(tx.id), undefined, 'transaction')
  t.equal(await store.findCode(cd.codeHash), undefined, 'code')
  t.equal(await store.findGrant(g.grantId), undefined, 'grant')
  t.equal(await store.findRefreshToken(rt.tokenHash), undefined, 'refresh token')
  t.equal(await store.findConsent(cs.sub, cs.clientId), undefined, 'consent')
})

t.test('a client with expiresAt 0 never expires', async t => {
  const c = fullClient({ expiresAt: 0 })
  await store.saveClient(c)
  clock.set(T0 + 100 * 365 * 86400)
  t.strictSame(await store.findClient(c.clientId), c)
})

t.test('an expired transaction cannot be approved or consumed', async t => {
  const tx = transaction({ expiresAt: T0 + 10 })
  await store.saveTransaction(tx)
  clock.set(T0 + 10)
  t.strictSame(await store.markTransactionApproved(tx.id, { codeVerifier: 'v', nonce: 'n' }), { won: false })
  t.equal(await store.consumeTransaction(tx.id), undefined)
})

t.test('an expired code cannot be consumed', async t => {
  const cd = code({ expiresAt: T0 + 60 })
  await store.saveCode(cd)
  const result = await store.consumeCode(cd.codeHash, redemption(cd), T0 + 60)
  t.equal(result.won, false)
  clock.set(T0 + 60)
  t.equal(await store.findCode(cd.codeHash), undefined)
})

t.test('an expired refresh token cannot be used', async t => {
  const rt = refreshToken({ expiresAt: T0 + 10 })
  await store.saveRefreshToken(rt)
  clock.set(T0 + 10)
  t.strictSame(await store.markRefreshTokenUsed(rt.tokenHash, T0 + 10, 'rotation-stamp'), { won: false })
})

t.test('an expired grant cannot rotate its refresh token (nor take new upstream tokens with it)', async t => {
  const current = grantRefreshToken()
  const g = grant({ expiresAt: T0 + 10, refreshToken: current, retiredRefreshTokens: [] })
  await store.saveGrant(g)
  clock.set(T0 + 10)
  t.strictSame(await store.rotateRefreshToken(g.grantId, current.tokenHash, rotation(current, { upstream: { sealed: 'new-sealed', expiresAt: undefined } }), T0 + 10), { won: false })
})
