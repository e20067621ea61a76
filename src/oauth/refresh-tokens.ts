// Refresh tokens live on their grant (docs/storage-schema.md): a token is `<grantId>.<secret>`, so a refresh
// reads one item, the grant, and rotates with one conditional write on it. The grant keeps the hash of its
// current token and of recently rotated-out ones, so a rotated-out token presented again is recognised as
// reuse (RFC 9700 §4.14.2) while a made-up token naming a real grant id is merely unknown and ends nothing.
// Tokens issued before this are a bare secret with an item of their own (legacy, honoured until they expire).
import type { GrantRecord, GrantRefreshToken, RetiredRefreshToken } from '../ports/records.ts'
import { randomToken, safeEqual, sha256 } from './secrets.ts'

/** Rotated-out tokens a grant remembers (newest first); an older one presented again is only "invalid". */
export const RETIRED_REFRESH_TOKENS_KEPT = 16

const SEPARATOR = '.'
/** `<grantId>.<secret>`: grant ids are base64url (random, or a UUID), the secret is 32 random bytes in base64url. */
const GRANT_FORM = /^([A-Za-z0-9_-]{1,128})\.[A-Za-z0-9_-]{43}$/
/** A legacy token: a bare base64url secret. */
const LEGACY_FORM = /^[A-Za-z0-9_-]{1,200}$/

/** What a presented refresh token is, from its shape alone: one naming its grant, a legacy one, or neither. */
export type RefreshTokenForm = { form: 'grant', grantId: string } | { form: 'legacy' } | { form: 'malformed' }

export function parseRefreshToken (token: string): RefreshTokenForm {
  const named = GRANT_FORM.exec(token)
  if (named !== null) return { form: 'grant', grantId: named[1] as string }
  return LEGACY_FORM.test(token) ? { form: 'legacy' } : { form: 'malformed' }
}

/** A new refresh token for `grant`: its sliding expiry never passes the grant's cap. */
export function newRefreshToken (grant: Pick<GrantRecord, 'grantId' | 'expiresAt'>, scope: string[], now: number, ttlSeconds: number): { token: string, record: GrantRefreshToken } {
  const token = `${grant.grantId}${SEPARATOR}${randomToken()}`
  return { token, record: { tokenHash: sha256(token), scope, createdAt: now, expiresAt: Math.min(now + ttlSeconds, grant.expiresAt) } }
}

/**
 * `current`: the grant's live token. `retired`: a token the grant issued and rotated out, presented again.
 * `unknown`: expired, forgotten or never issued (forged) — nothing may be revoked on its account.
 */
export type RefreshTokenStanding = 'current' | 'retired' | 'unknown'

export function refreshTokenStanding (grant: GrantRecord, tokenHash: string, now: number): RefreshTokenStanding {
  const current = grant.refreshToken
  if (current !== undefined && safeEqual(current.tokenHash, tokenHash)) return current.expiresAt > now ? 'current' : 'unknown'
  const retired = grant.retiredRefreshTokens ?? []
  return retired.some(r => r.expiresAt > now && safeEqual(r.tokenHash, tokenHash)) ? 'retired' : 'unknown'
}

/**
 * The retired list once the current token is rotated out: newest first, expired ones dropped, bounded.
 * 'flooded' when the rotation would forget a token retired less than `recentSeconds` ago (one access-token
 * lifetime): a client that refreshes when its access token expires never does that, but a thief who rotates
 * fast to push the victim's token off the list (so that its replay is no longer recognised as reuse) does.
 */
export function retireCurrentToken (grant: GrantRecord, now: number, recentSeconds: number): RetiredRefreshToken[] | 'flooded' {
  const retired: RetiredRefreshToken[] = grant.refreshToken === undefined ? [] : [{ tokenHash: grant.refreshToken.tokenHash, expiresAt: grant.refreshToken.expiresAt, retiredAt: now }]
  for (const r of grant.retiredRefreshTokens ?? []) if (r.expiresAt > now) retired.push(r)
  const forgotten = retired.slice(RETIRED_REFRESH_TOKENS_KEPT)
  if (forgotten.some(r => (r.retiredAt ?? 0) > now - recentSeconds)) return 'flooded'
  return retired.slice(0, RETIRED_REFRESH_TOKENS_KEPT)
}
