// RFC 7662 introspection and RFC 7009 revocation.
import { authenticateClient, type ClientCredentials } from './clients.ts'
import { clientRules, protectedResources, type AuthorizationServerContext } from './context.ts'
import { InvalidRequestError, OAuthError } from './errors.ts'
import { isGrantActive } from './grants/issue.ts'
import type { AccessTokenClaims } from './access-tokens.ts'
import type { UpstreamTokens } from '../ports/upstream.ts'
import { refreshTokenGrantId, refreshTokenStanding } from './refresh-tokens.ts'
import { sha256 } from './secrets.ts'
import type { GrantRecord } from '../ports/records.ts'
import type { IntrospectionResponse } from '../schemas/oauth.ts'


function tryAccessToken (token: string, ctx: AuthorizationServerContext): AccessTokenClaims | undefined {
  try { return ctx.accessTokens.verify(token, protectedResources(ctx)) } catch { return undefined }
}

/**
 * Introspection is for authenticated confidential clients (DESIGN decision 6; RFC 7662 §2.1, §4): a client
 * configured as a resource server may introspect any token, any other one only tokens issued to it — so
 * self-registration does not buy an oracle for everyone's tokens. Unknown or not yours → active:false.
 */
export async function introspect (params: Record<string, string | undefined>, credentials: ClientCredentials, ctx: AuthorizationServerContext): Promise<IntrospectionResponse> {
  const caller = await authenticateClient(credentials, clientRules(ctx), true)
  const token = params.token
  if (token === undefined || token === '') throw new InvalidRequestError('token is required')
  const now = ctx.clock.now()
  let response = await describeToken(token, now, ctx)
  if (response.active && response.client_id !== caller.clientId && !ctx.introspectionClients.includes(caller.clientId)) response = { active: false }
  ctx.audit.event('token.introspected', { clientId: caller.clientId, active: response.active })
  return response
}

// token_type_hint is ignored (RFC 7662 §2.1, RFC 7009 §2.1 allow it): the type is detected from the token
// itself, so a wrong hint can never hide a live token.
async function describeToken (token: string, now: number, ctx: AuthorizationServerContext): Promise<IntrospectionResponse> {
  if (token.length > 8192) return { active: false }
  const claims = tryAccessToken(token, ctx)
  if (claims !== undefined) {
    const grant = await ctx.store.findGrant(claims.gid)
    if (!isGrantActive(grant, now)) return { active: false }
    return { active: true, scope: claims.scope, client_id: claims.client_id, sub: claims.sub, aud: claims.aud, iss: claims.iss, exp: claims.exp, iat: claims.iat, token_type: 'Bearer', groups: claims.groups }
  }
  if (token.length > 200) return { active: false }
  const grantId = refreshTokenGrantId(token)
  if (grantId !== undefined) {
    const grant = await ctx.store.findGrant(grantId)
    if (!isGrantActive(grant, now) || grant.refreshToken === undefined || refreshTokenStanding(grant, sha256(token), now) !== 'current') return { active: false }
    const current = grant.refreshToken
    return { active: true, scope: current.scope.join(' '), client_id: grant.clientId, sub: grant.identity.sub, aud: grant.resource, iss: ctx.issuer, exp: current.expiresAt, iat: current.createdAt, token_type: 'refresh_token' }
  }
  const refresh = await ctx.store.findRefreshToken(sha256(token))
  if (refresh === undefined || refresh.usedAt !== undefined) return { active: false }
  const grant = await ctx.store.findGrant(refresh.grantId)
  if (!isGrantActive(grant, now)) return { active: false }
  return { active: true, scope: refresh.scope.join(' '), client_id: refresh.clientId, sub: grant.identity.sub, aud: grant.resource, iss: ctx.issuer, exp: refresh.expiresAt, iat: refresh.createdAt, token_type: 'refresh_token' }
}

/**
 * RFC 7009: revoking a refresh or access token ends its whole grant, and the upstream refresh token
 * with it. A client may revoke only its own tokens; anything else is answered 200 with no effect.
 */
export async function revoke (params: Record<string, string | undefined>, credentials: ClientCredentials, ctx: AuthorizationServerContext): Promise<void> {
  const client = await authenticateClient(credentials, clientRules(ctx))
  const token = params.token
  if (token === undefined || token === '') throw new InvalidRequestError('token is required')
  if (token.length > 8192) return
  let grantId: string | undefined
  let grant: GrantRecord | undefined
  const claims = tryAccessToken(token, ctx)
  if (claims !== undefined) {
    if (claims.client_id === client.clientId) grantId = claims.gid
  } else if (token.length <= 200) {
    const named = refreshTokenGrantId(token)
    if (named !== undefined) {
      // A rotated-out token of the grant revokes it too (as a used legacy token does); a made-up one does nothing.
      const found = await ctx.store.findGrant(named)
      if (found !== undefined && found.clientId === client.clientId && refreshTokenStanding(found, sha256(token), ctx.clock.now()) !== 'unknown') {
        grantId = named
        grant = found
      }
    } else {
      const refresh = await ctx.store.findRefreshToken(sha256(token))
      if (refresh !== undefined && refresh.clientId === client.clientId) grantId = refresh.grantId
    }
  }
  if (grantId === undefined) return
  grant ??= await ctx.store.findGrant(grantId)
  await ctx.store.revokeGrant(grantId, ctx.clock.now())
  ctx.audit.event('grant.revoked', { clientId: client.clientId, grantId, sub: grant?.identity.sub, reason: 'client_revocation' })
  if (grant?.upstreamSealed !== undefined && grant.revokedAt === undefined) {
    try {
      const upstream = JSON.parse(await ctx.cipher.open(grant.upstreamSealed, `grant:${grantId}`)) as UpstreamTokens
      if (upstream.refreshToken !== undefined) await ctx.upstream.revoke(upstream.refreshToken)
    } catch (error) {
      // The gatehouse grant is already revoked; an upstream failure is logged, not shown.
      ctx.audit.event('grant.revoked', { clientId: client.clientId, grantId, upstreamRevocation: 'failed', reason: error instanceof OAuthError ? error.code : (error as Error).name })
    }
  }
}
