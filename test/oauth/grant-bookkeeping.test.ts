// The bookkeeping that rides on the token endpoint (issue 18): a new grant pushes its client's expiry out
// (CLIENT_UNUSED_DAYS, and never before the grant ends) when that is due, a refresh records the grant's last
// use in its rotation write, and the client write cannot fail a token request: after a code is spent, a 503
// would make the client's retry look like reuse and end the grant.
import t from 'tap'
import { StoreUnavailableError } from '../../src/ports/store.ts'
import { authorize, exchangeCode, postForm, registerClient, startHarness } from '../support/oauth-harness.ts'
import { startTestStore } from '../support/store.ts'

const DAY = 86400

t.test('a grant keeps its client registered at least as long as the grant; a refresh stamps lastUsedAt', async t => {
  const h = await startHarness(t, { env: { CLIENT_UNUSED_DAYS: '30' } })
  const registered = await registerClient(h)
  const now = Math.floor(Date.now() / 1000)
  const before = await h.store.store.findClient(registered.client.client_id)
  t.ok(before !== undefined && Math.abs(before.expiresAt - (now + 33 * DAY)) <= 5, 'a new registration lives CLIENT_UNUSED_DAYS, plus a tenth of headroom')
  const tokens = await exchangeCode(h, registered, await authorize(h, registered.client))
  const gid = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid
  const grant = await h.store.store.findGrant(gid)
  const extended = (await h.store.store.findClient(registered.client.client_id))?.expiresAt
  t.equal(extended, (grant?.expiresAt ?? 0) + 3 * DAY, 'pushed to the grant\'s end (90 days > 30), plus the headroom')
  t.equal(grant?.lastUsedAt, undefined)
  await exchangeCode(h, registered, await authorize(h, registered.client))
  t.equal((await h.store.store.findClient(registered.client.client_id))?.expiresAt, extended, 'the next grant, within the headroom: no client write')
  const refreshed = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: registered.client.client_id })
  t.equal(refreshed.status, 200)
  t.ok(((await h.store.store.findGrant(gid))?.lastUsedAt ?? 0) >= now, 'lastUsedAt set by the refresh')
})

t.test('a store that fails the client write fails no token request', async t => {
  const testStore = await startTestStore(t)
  const failing = new Proxy(testStore.store, {
    get (target, property) {
      if (property === 'extendClient') return async () => { throw new StoreUnavailableError('down for this write') }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const h = await startHarness(t, { store: testStore, services: { store: failing }, env: { CLIENT_UNUSED_DAYS: '30' } })
  const registered = await registerClient(h)
  const tokens = await exchangeCode(h, registered, await authorize(h, registered.client))
  t.ok(tokens.access_token, 'the code exchange succeeds (its client expiry was due: a first grant outlives a 30-day registration)')
  const refreshed = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: registered.client.client_id })
  t.equal(refreshed.status, 200, 'so does the refresh')
})
