// RFC 6749 §6 with OAuth 2.1 / RFC 9700 §4.14 rotation: every refresh token is single use; presenting one
// that was already exchanged revokes the whole grant (DESIGN decision 4). Upstream tokens are refreshed
// when near expiry; a revoked upstream session ends the grant. A refresh reads the grant, signs, and then
// rotates with one conditional write on the grant (src/oauth/refresh-tokens.ts has the token's form).
import { protectedResources, type AuthorizationServerContext } from '../context.ts'
import { InvalidGrantError, InvalidRequestError, InvalidTargetError } from '../errors.ts'
import type { ClientRecord, GrantRecord } from '../../ports/records.ts'
import type { RefreshRotation } from '../../ports/store.ts'
import { UpstreamGrantRevokedError, type UpstreamTokens } from '../../ports/upstream.ts'
import { newRefreshToken, parseRefreshToken, refreshTokenStanding, retireCurrentToken } from '../refresh-tokens.ts'
import { resolveResource } from '../resource.ts'
import { narrowScope } from '../scopes.ts'
import { randomToken, safeEqual, sha256 } from '../secrets.ts'
import { isGrantActive, signAccessToken } from './issue.ts'
import type { GrantHandler, TokenParams, TokenResponse } from './types.ts'

/** Refresh the upstream tokens when they expire within this many seconds. */
const UPSTREAM_REFRESH_MARGIN = 300

/** Revokes the grant; audits only when this call revoked it (a replay against a revoked grant is no news). True then. */
async function revokeFamily (grantId: string, clientId: string, reason: string, ctx: AuthorizationServerContext): Promise<boolean> {
  const revoked = await ctx.store.revokeGrant(grantId, ctx.clock.now())
  if (revoked) ctx.audit.event('grant.revoked', { clientId, grantId, reason })
  return revoked
}

async function reuseDetected (grantId: string, clientId: string, ctx: AuthorizationServerContext): Promise<void> {
  if (await revokeFamily(grantId, clientId, 'refresh_reuse', ctx)) ctx.audit.event('refresh.reuse_detected', { clientId, grantId })
}

/** The grant's new sealed upstream tokens when they were due for a refresh; stored by the rotation's write. */
async function refreshUpstream (grant: GrantRecord, ctx: AuthorizationServerContext): Promise<RefreshRotation['upstream']> {
  const now = ctx.clock.now()
  if (grant.upstreamSealed === undefined || grant.upstreamExpiresAt === undefined || grant.upstreamExpiresAt - UPSTREAM_REFRESH_MARGIN > now) return undefined
  const context = `grant:${grant.grantId}`
  const tokens = JSON.parse(await ctx.cipher.open(grant.upstreamSealed, context)) as UpstreamTokens
  if (tokens.refreshToken === undefined) return undefined
  let fresh: UpstreamTokens
  try {
    fresh = await ctx.upstream.refresh(tokens.refreshToken)
  } catch (error) {
    if (error instanceof UpstreamGrantRevokedError) {
      await revokeFamily(grant.grantId, grant.clientId, 'upstream_revoked', ctx)
      throw new InvalidGrantError('the sign-in session has ended; sign in again', 'upstream refresh token revoked')
    }
    // Upstream unavailable: the gatehouse grant stays valid; the upstream refresh is retried next time.
    return undefined
  }
  const merged: UpstreamTokens = { ...fresh, refreshToken: fresh.refreshToken ?? tokens.refreshToken }
  return { sealed: await ctx.cipher.seal(JSON.stringify(merged), context), expiresAt: merged.expiresAt }
}

/** A refresh's tokens and the write that rotates to them, before that write. */
interface PreparedRotation {
  response: TokenResponse
  rotation: RefreshRotation
}

/**
 * Everything a refresh does that can fail, before its single-use write, so that a failure (the request's scope
 * or resource, signing, the upstream IdP) leaves the presented token usable: the client's corrected retry works.
 */
async function prepareRotation (grant: GrantRecord, tokenScope: string[], params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext): Promise<PreparedRotation> {
  const now = ctx.clock.now()
  const scope = narrowScope(params.scope, tokenScope)
  // A refreshed token keeps its grant's audience; naming another resource is refused (RFC 8707 §2.2), never a re-scoping.
  if (resolveResource(params.resource, protectedResources(ctx), grant.resource) !== grant.resource) throw new InvalidTargetError('resource does not match the grant')
  const retired = retireCurrentToken(grant, now, ctx.ttl.accessToken)
  if (retired === 'flooded') {
    // Rotating on would forget a token rotated out moments ago, so its replay would no longer be recognised.
    if (await revokeFamily(grant.grantId, client.clientId, 'refresh_flood', ctx)) ctx.audit.event('refresh.flood_detected', { clientId: client.clientId, grantId: grant.grantId })
    throw new InvalidGrantError('the grant was revoked: its refresh token was rotated too often', 'rotation flood')
  }
  const response = await signAccessToken(grant, scope, ctx)
  // RFC 6749 §6: a narrower scope is this access token's; the new refresh token keeps the one it replaces.
  const next = newRefreshToken(grant, tokenScope, now, ctx.ttl.refreshToken)
  response.refresh_token = next.token
  const upstream = await refreshUpstream(grant, ctx)
  return { response, rotation: { next: next.record, retired, upstream } }
}

/**
 * The single-use write: rotates the grant's refresh token from `presentedHash` (undefined: a legacy token, already
 * marked used, whose grant holds none yet) and answers with the prepared tokens.
 */
async function commitRotation (grant: GrantRecord, presentedHash: string | undefined, prepared: PreparedRotation, client: ClientRecord, ctx: AuthorizationServerContext) {
  const now = ctx.clock.now()
  const rotated = await ctx.store.rotateRefreshToken(grant.grantId, presentedHash, prepared.rotation, now)
  // The grant already holds the token this request was writing: its write committed but the answer was lost,
  // and the store client's retry of it failed the condition. It won.
  const ownWrite = !rotated.won && rotated.record !== undefined && isGrantActive(rotated.record, now) && rotated.record.refreshToken !== undefined && safeEqual(rotated.record.refreshToken.tokenHash, prepared.rotation.next.tokenHash)
  if (!rotated.won && !ownWrite) {
    const still = rotated.record
    // Still this token on the grant: the grant was revoked or ended meanwhile. Otherwise another request rotated it first.
    if (still === undefined || still.refreshToken?.tokenHash === presentedHash) throw new InvalidGrantError('the grant was revoked or has expired', 'ended during rotation')
    await reuseDetected(grant.grantId, client.clientId, ctx)
    throw new InvalidGrantError('refresh token was already used', 'lost rotation race')
  }
  ctx.audit.event('token.refreshed', { clientId: client.clientId, sub: grant.identity.sub, grantId: grant.grantId })
  return prepared.response
}

/**
 * A refresh token issued before tokens moved onto their grant: everything that can fail is done first, then the
 * token is used up as before, then the grant gets a new-form token.
 */
async function refreshLegacy (refreshToken: string, params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext) {
  const tokenHash = sha256(refreshToken)
  const token = await ctx.store.findRefreshToken(tokenHash)
  if (token === undefined) throw new InvalidGrantError('refresh token is invalid or expired')
  if (token.clientId !== client.clientId) throw new InvalidGrantError('refresh token was issued to another client')
  if (token.usedAt !== undefined) {
    await reuseDetected(token.grantId, client.clientId, ctx)
    throw new InvalidGrantError('refresh token was already used', 'reuse')
  }
  const grant = await ctx.store.findGrant(token.grantId)
  if (!isGrantActive(grant, ctx.clock.now())) throw new InvalidGrantError('the grant was revoked or has expired')
  const prepared = await prepareRotation(grant, token.scope, params, client, ctx)
  const usedBy = randomToken(16)
  const used = await ctx.store.markRefreshTokenUsed(tokenHash, ctx.clock.now(), usedBy)
  // Used by this very request: its write committed but the answer was lost, and the retry failed the condition.
  const ownWrite = !used.won && used.record?.usedBy !== undefined && safeEqual(used.record.usedBy, usedBy)
  if (!used.won && !ownWrite) {
    await reuseDetected(token.grantId, client.clientId, ctx)
    throw new InvalidGrantError('refresh token was already used', 'lost rotation race')
  }
  return await commitRotation(grant, undefined, prepared, client, ctx)
}

export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  async handle (params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext) {
    const presented = params.refresh_token
    if (presented === undefined || presented === '') throw new InvalidRequestError('refresh_token is required')
    // Nothing of the wrong shape reaches the store.
    const parsed = parseRefreshToken(presented)
    if (parsed.form === 'malformed') throw new InvalidGrantError('refresh token is invalid or expired', 'malformed')
    if (parsed.form === 'legacy') return await refreshLegacy(presented, params, client, ctx)
    const grantId = parsed.grantId
    const tokenHash = sha256(presented)
    const now = ctx.clock.now()
    const grant = await ctx.store.findGrant(grantId)
    // Only a token the grant really issued counts: a made-up one naming this grant id must not end it.
    const standing = grant === undefined ? 'unknown' : refreshTokenStanding(grant, tokenHash, now)
    if (grant === undefined || standing === 'unknown') throw new InvalidGrantError('refresh token is invalid or expired')
    if (grant.clientId !== client.clientId) throw new InvalidGrantError('refresh token was issued to another client')
    if (standing === 'retired') {
      await reuseDetected(grant.grantId, client.clientId, ctx)
      throw new InvalidGrantError('refresh token was already used', 'reuse')
    }
    if (!isGrantActive(grant, now) || grant.refreshToken === undefined) throw new InvalidGrantError('the grant was revoked or has expired')
    return await commitRotation(grant, tokenHash, await prepareRotation(grant, grant.refreshToken.scope, params, client, ctx), client, ctx)
  }
}
