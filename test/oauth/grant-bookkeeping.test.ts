// The bookkeeping that rides on the token endpoint (issue 18): a new grant pushes its client's expiry out
// (CLIENT_UNUSED_DAYS, and never before the grant ends), a refresh records the grant's last use, and
// neither can fail a token request: after a code or refresh token is spent, a 503 would make the client's
// retry look like reuse and end the grant.
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
  t.ok(before !== undefined && Math.abs(before.expiresAt - (now + 30 * DAY)) <= 5, 'a new registration lives CLIENT_UNUSED_DAYS')
  const tokens = await exchangeCode(h, registered, await authorize(h, registered.client))
  const gid = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid
  const grant = await h.store.store.findGrant(gid)
  t.equal((await h.store.store.findClient(registered.client.client_id))?.expiresAt, grant?.expiresAt, 'pushed to the grant\'s end (90 days > 30)')
  t.equal(grant?.lastUsedAt, undefined)
  const refreshed = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: registered.client.client_id })
  t.equal(refreshed.status, 200)
  t.ok(((await h.store.store.findGrant(gid))?.lastUsedAt ?? 0) >= now, 'lastUsedAt set by the refresh')
})

t.test('a store that fails those two writes fails no token request', async t => {
  const testStore = await startTestStore(t)
  const failing = new Proxy(testStore.store, {
    get (target, property) {
      if (property === 'extendClient' || property === 'touchGrant') return async () => { throw new StoreUnavailableError('down for this write') }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const h = await startHarness(t, { store: testStore, services: { store: failing } })
  const registered = await registerClient(h)
  const tokens = await exchangeCode(h, registered, await authorize(h, registered.client))
  t.ok(tokens.access_token, 'the code exchange succeeds')
  const refreshed = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: registered.client.client_id })
  t.equal(refreshed.status, 200, 'so does the refresh')
})
