// Signing in to the connected-apps page, the rules alone with a fake IdP and clock: the state must be the
// one this browser started and still fresh; an IdP that refuses, is down or fails maps to the usual
// errors; the upstream refresh token of that login is revoked at once (the page keeps nothing).
import t from 'tap'
import { ACCOUNT_SESSION_TTL, checkAccountCsrf, finishAccountLogin, isAccountLoginState, startAccountLogin, type AccountLoginContext } from '../../src/oauth/account-login.ts'
import { AccessDeniedError, InvalidRequestError, OAuthError } from '../../src/oauth/errors.ts'
import { UpstreamDeniedError, UpstreamUnavailableError, type UpstreamLogin } from '../../src/ports/upstream.ts'
import { createFakeClock } from '../support/store.ts'

const clock = createFakeClock(1_750_000_000)
function context (complete: () => Promise<UpstreamLogin>, revoked: string[] = [], authorize: () => Promise<URL> = async () => new URL('https://idp.example/authorize')): AccountLoginContext & { events: string[] } {
  const events: string[] = []
  return {
    events,
    clock,
    audit: { event: name => { events.push(name) } },
    upstream: { authorizationUrl: authorize, completeLogin: complete, revoke: async token => { if (token === 'boom') throw new Error('idp down'); revoked.push(token) } }
  }
}
const login: UpstreamLogin = { identity: { sub: 'alice-sub', email: 'alice@example.com', groups: [] }, tokens: { accessToken: 'at', refreshToken: 'rt' } }

t.test('a page sign-in: state prefixed, session for 15 minutes, the upstream refresh token revoked', async t => {
  const revoked: string[] = []
  const ctx = context(async () => login, revoked)
  const { pending } = await startAccountLogin(ctx)
  t.ok(isAccountLoginState(pending.state))
  t.notOk(isAccountLoginState('abc'))
  t.notOk(isAccountLoginState(undefined))
  const session = await finishAccountLogin(new URL(`https://gh.example/callback?state=${pending.state}&code=c`), pending, ctx)
  t.match(session, { sub: 'alice-sub', name: 'alice@example.com', expiresAt: clock.now() + ACCOUNT_SESSION_TTL })
  t.same(revoked, ['rt'])
  t.same(ctx.events, ['account.signed_in'])
  t.doesNotThrow(() => checkAccountCsrf(session, session.csrfToken))
  t.throws(() => checkAccountCsrf(session, undefined), AccessDeniedError)
  // A failing upstream revocation does not fail the sign-in.
  const noRevoke = context(async () => ({ ...login, tokens: { accessToken: 'at', refreshToken: 'boom' } }))
  t.equal((await finishAccountLogin(new URL(`https://gh.example/callback?state=${pending.state}`), pending, noRevoke)).sub, 'alice-sub')
})

t.test('another state, no pending sign-in or an expired one is refused before the IdP is asked', async t => {
  let asked = 0
  const ctx = context(async () => { asked++; return login })
  const { pending } = await startAccountLogin(ctx)
  await t.rejects(finishAccountLogin(new URL('https://gh.example/callback?state=account.other'), pending, ctx), InvalidRequestError)
  await t.rejects(finishAccountLogin(new URL(`https://gh.example/callback?state=${pending.state}`), undefined, ctx), InvalidRequestError)
  await t.rejects(finishAccountLogin(new URL(`https://gh.example/callback?state=${pending.state}`), { ...pending, expiresAt: clock.now() }, ctx), InvalidRequestError)
  t.equal(asked, 0)
})

t.test('the IdP refusing, down or failing: access_denied, temporarily_unavailable, server_error', async t => {
  const { pending } = await startAccountLogin(context(async () => login))
  const url = new URL(`https://gh.example/callback?state=${pending.state}`)
  const cases: Array<[Error, string]> = [[new UpstreamDeniedError('no'), 'access_denied'], [new UpstreamUnavailableError('down'), 'temporarily_unavailable'], [new Error('bug'), 'server_error']]
  for (const [error, code] of cases) {
    const ctx = context(async () => { throw error })
    const failure = await finishAccountLogin(url, pending, ctx).catch((e: unknown) => e)
    t.type(failure, OAuthError)
    t.equal((failure as OAuthError).code, code)
    t.same(ctx.events, ['login.failed'])
  }
  await t.rejects(startAccountLogin(context(async () => login, [], async () => { throw new UpstreamUnavailableError('down') })), { code: 'temporarily_unavailable' })
  await t.rejects(startAccountLogin(context(async () => login, [], async () => { throw new TypeError('bug') })), TypeError)
})
