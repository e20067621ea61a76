// Signing in to the connected-apps page: the user proves who they are to the upstream IdP (the same
// login as for a grant, with PKCE, state and nonce), and gets a short session for this page only. The
// upstream tokens of that login are not kept: its refresh token is revoked at once.
import type { AuditLog } from '../ports/audit.ts'
import type { Clock } from '../ports/clock.ts'
import type { UserIdentity } from '../ports/records.ts'
import { UpstreamDeniedError, UpstreamUnavailableError, type UpstreamIdp } from '../ports/upstream.ts'
import { AccessDeniedError, InvalidRequestError, ServerError, TemporarilyUnavailableError } from './errors.ts'
import { randomToken, safeEqual } from './secrets.ts'

/** The upstream `state` of a page sign-in; authorization transactions ids (base64url) never contain a dot. */
export const ACCOUNT_STATE_PREFIX = 'account.'
/** The page session: long enough to look and revoke, short enough not to be a standing credential. */
export const ACCOUNT_SESSION_TTL = 900
/** Time to finish the upstream login. */
export const ACCOUNT_LOGIN_TTL = 600

export interface AccountLoginContext {
  upstream: Pick<UpstreamIdp, 'authorizationUrl' | 'completeLogin' | 'revoke'>
  clock: Clock
  audit: AuditLog
}

/** Kept in the browser (a signed, HttpOnly cookie) between the page and the callback. */
export interface PendingAccountLogin { state: string, codeVerifier: string, nonce: string, expiresAt: number }

/** The page's session, in a signed HttpOnly cookie: who, until when, and the CSRF token its forms carry. */
export interface AccountSession { sub: string, name: string | undefined, csrfToken: string, expiresAt: number }

export function isAccountLoginState (state: string | undefined): boolean {
  return state?.startsWith(ACCOUNT_STATE_PREFIX) === true
}

export async function startAccountLogin (ctx: AccountLoginContext): Promise<{ location: URL, pending: PendingAccountLogin }> {
  const pending = { state: `${ACCOUNT_STATE_PREFIX}${randomToken()}`, codeVerifier: randomToken(48), nonce: randomToken(), expiresAt: ctx.clock.now() + ACCOUNT_LOGIN_TTL }
  try {
    return { location: await ctx.upstream.authorizationUrl(pending), pending }
  } catch (error) {
    if (error instanceof UpstreamUnavailableError) throw new TemporarilyUnavailableError('the identity provider is unavailable, try again shortly', error.message)
    throw error
  }
}

/** The upstream login came back: the same browser, the same state, in time. */
export async function finishAccountLogin (callbackUrl: URL, pending: PendingAccountLogin | undefined, ctx: AccountLoginContext): Promise<AccountSession> {
  const state = callbackUrl.searchParams.get('state') ?? ''
  const now = ctx.clock.now()
  if (pending === undefined || pending.expiresAt <= now || !safeEqual(state, pending.state)) {
    throw new InvalidRequestError('this sign-in is unknown, expired or was started in another browser; open the connected apps page again', 'account login state mismatch')
  }
  let identity: UserIdentity
  let refreshToken: string | undefined
  try {
    const login = await ctx.upstream.completeLogin({ callbackUrl, state: pending.state, codeVerifier: pending.codeVerifier, nonce: pending.nonce })
    identity = login.identity
    refreshToken = login.tokens.refreshToken
  } catch (error) {
    ctx.audit.event('login.failed', { purpose: 'account', reason: error instanceof Error ? error.name : 'unknown' })
    if (error instanceof UpstreamDeniedError) throw new AccessDeniedError('the sign-in was cancelled or refused', error.message)
    if (error instanceof UpstreamUnavailableError) throw new TemporarilyUnavailableError('the identity provider is unavailable, try again shortly', error.message)
    throw new ServerError('the sign-in could not be completed', String(error))
  }
  // This page needs to know who the user is, nothing more: the upstream session it opened is closed.
  if (refreshToken !== undefined) await ctx.upstream.revoke(refreshToken).catch(() => undefined)
  ctx.audit.event('account.signed_in', { sub: identity.sub })
  return { sub: identity.sub, name: identity.email ?? identity.username, csrfToken: randomToken(), expiresAt: now + ACCOUNT_SESSION_TTL }
}

/** The session's CSRF token must come back with every form. */
export function checkAccountCsrf (session: AccountSession, csrfToken: string | undefined): void {
  if (csrfToken === undefined || !safeEqual(csrfToken, session.csrfToken)) throw new AccessDeniedError('the form is invalid or expired; reload the connected apps page', 'account csrf mismatch')
}
