// RFC 6749 §6 with OAuth 2.1 / RFC 9700 §4.14 rotation: every refresh token is single use; presenting one
// that was already exchanged revokes the whole grant (DESIGN decision 4). Upstream tokens are refreshed
// when near expiry; a revoked upstream session ends the grant.
import { protectedResources, type AuthorizationServerContext } from '../context.ts'
import { InvalidGrantError, InvalidRequestError } from '../errors.ts'
import type { ClientRecord, GrantRecord } from '../../ports/records.ts'
import { UpstreamGrantRevokedError, type UpstreamTokens } from '../../ports/upstream.ts'
import { resolveResource } from '../resource.ts'
import { narrowScope } from '../scopes.ts'
import { sha256 } from '../secrets.ts'
import { commitTokens, isGrantActive, prepareTokens } from './issue.ts'
import type { GrantHandler, TokenParams } from './types.ts'

/** Refresh the upstream tokens when they expire within this many seconds. */
const UPSTREAM_REFRESH_MARGIN = 300

async function revokeFamily (grantId: string, clientId: string, reason: string, ctx: AuthorizationServerContext): Promise<void> {
  await ctx.store.revokeGrant(grantId, ctx.clock.now())
  ctx.audit.event('grant.revoked', { clientId, grantId, reason })
}

async function refreshUpstream (grant: GrantRecord, ctx: AuthorizationServerContext): Promise<void> {
  const now = ctx.clock.now()
  if (grant.upstreamSealed === undefined || grant.upstreamExpiresAt === undefined || grant.upstreamExpiresAt - UPSTREAM_REFRESH_MARGIN > now) return
  const context = `grant:${grant.grantId}`
  const tokens = JSON.parse(await ctx.cipher.open(grant.upstreamSealed, context)) as UpstreamTokens
  if (tokens.refreshToken === undefined) return
  let fresh: UpstreamTokens
  try {
    fresh = await ctx.upstream.refresh(tokens.refreshToken)
  } catch (error) {
    if (error instanceof UpstreamGrantRevokedError) {
      await revokeFamily(grant.grantId, grant.clientId, 'upstream_revoked', ctx)
      throw new InvalidGrantError('the sign-in session has ended; sign in again', 'upstream refresh token revoked')
    }
    // Upstream unavailable: the gatehouse grant stays valid; the upstream refresh is retried next time.
    return
  }
  const merged: UpstreamTokens = { ...fresh, refreshToken: fresh.refreshToken ?? tokens.refreshToken }
  await ctx.store.updateGrantUpstream(grant.grantId, await ctx.cipher.seal(JSON.stringify(merged), context), merged.expiresAt)
}

export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  async handle (params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext) {
    if (params.refresh_token === undefined || params.refresh_token === '') throw new InvalidRequestError('refresh_token is required')
    if (params.refresh_token.length > 200) throw new InvalidGrantError()
    const tokenHash = sha256(params.refresh_token)
    const token = await ctx.store.findRefreshToken(tokenHash)
    if (token === undefined) throw new InvalidGrantError('refresh token is invalid or expired')
    if (token.clientId !== client.clientId) throw new InvalidGrantError('refresh token was issued to another client')
    if (token.usedAt !== undefined) {
      await revokeFamily(token.grantId, client.clientId, 'refresh_reuse', ctx)
      ctx.audit.event('refresh.reuse_detected', { clientId: client.clientId, grantId: token.grantId })
      throw new InvalidGrantError('refresh token was already used', 'reuse')
    }
    const now = ctx.clock.now()
    const grant = await ctx.store.findGrant(token.grantId)
    if (!isGrantActive(grant, now)) throw new InvalidGrantError('the grant was revoked or has expired')
    const scope = narrowScope(params.scope, token.scope)
    // A refreshed token keeps its grant's audience; naming another resource is refused, never a re-scoping.
    if (resolveResource(params.resource, protectedResources(ctx), grant.resource) !== grant.resource) throw new InvalidGrantError('resource does not match the grant')

    // Sign before the single-use transition: a KMS failure must not burn the refresh token.
    const prepared = await prepareTokens(grant, client, scope, ctx)
    const used = await ctx.store.markRefreshTokenUsed(tokenHash, now)
    if (!used.won) {
      await revokeFamily(token.grantId, client.clientId, 'refresh_reuse', ctx)
      ctx.audit.event('refresh.reuse_detected', { clientId: client.clientId, grantId: token.grantId })
      throw new InvalidGrantError('refresh token was already used', 'lost rotation race')
    }
    await refreshUpstream(grant, ctx)
    const response = await commitTokens(prepared, ctx)
    // "Last used" is for people; failing the request here, after the rotation, would make the retry look like reuse.
    await ctx.store.touchGrant(grant.grantId, now).catch(() => undefined)
    ctx.audit.event('token.refreshed', { clientId: client.clientId, sub: grant.identity.sub, grantId: grant.grantId })
    return response
  }
}
