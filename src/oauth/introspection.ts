// RFC 7662 introspection and RFC 7009 revocation.
import { authenticateClient, type ClientCredentials } from './clients.ts'
import { clientRules, type AuthorizationServerContext } from './context.ts'
import { InvalidRequestError, OAuthError } from './errors.ts'
import { isGrantActive } from './grants/issue.ts'
import type { AccessTokenClaims } from './access-tokens.ts'
import type { UpstreamTokens } from './ports.ts'
import { sha256 } from './secrets.ts'

export type IntrospectionResponse = { active: false } | {
  active: true
  scope: string
  client_id: string
  sub: string
  aud: string
  iss: string
  exp: number
  iat: number
  token_type: 'Bearer' | 'refresh_token'
  username?: string
  groups?: string[]
}

function tryAccessToken (token: string, ctx: AuthorizationServerContext): AccessTokenClaims | undefined {
  try { return ctx.accessTokens.verify(token) } catch { return undefined }
}

/** Introspection is for authenticated confidential clients (DESIGN decision 6). Unknown → active:false. */
export async function introspect (params: Record<string, string | undefined>, credentials: ClientCredentials, ctx: AuthorizationServerContext): Promise<IntrospectionResponse> {
  const caller = await authenticateClient(credentials, clientRules(ctx), true)
  const token = params.token
  if (token === undefined || token === '') throw new InvalidRequestError('token is required')
  const now = ctx.clock.now()
  const response = await describeToken(token, params.token_type_hint, now, ctx)
  ctx.audit.event('token.introspected', { clientId: caller.clientId, active: response.active })
  return response
}

async function describeToken (token: string, hint: string | undefined, now: number, ctx: AuthorizationServerContext): Promise<IntrospectionResponse> {
  if (token.length > 8192) return { active: false }
  const claims = hint === 'refresh_token' ? undefined : tryAccessToken(token, ctx)
  if (claims !== undefined) {
    const grant = await ctx.store.findGrant(claims.gid)
    if (!isGrantActive(grant, now)) return { active: false }
    return { active: true, scope: claims.scope, client_id: claims.client_id, sub: claims.sub, aud: claims.aud, iss: claims.iss, exp: claims.exp, iat: claims.iat, token_type: 'Bearer', groups: claims.groups }
  }
  if (token.length > 200) return { active: false }
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
  const claims = params.token_type_hint === 'refresh_token' ? undefined : tryAccessToken(token, ctx)
  if (claims !== undefined) {
    if (claims.client_id === client.clientId) grantId = claims.gid
  } else if (token.length <= 200) {
    const refresh = await ctx.store.findRefreshToken(sha256(token))
    if (refresh !== undefined && refresh.clientId === client.clientId) grantId = refresh.grantId
  }
  if (grantId === undefined) return
  const grant = await ctx.store.findGrant(grantId)
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
