// RFC 7662 introspection and RFC 7009 revocation.
import { authenticateClient, type ClientCredentials } from './clients.ts'
import { clientRules, protectedResources, type AuthorizationServerContext } from './context.ts'
import { InvalidRequestError } from './errors.ts'
import { revokeGrantEverywhere } from './connected-apps.ts'
import { isGrantActive } from './grants/issue.ts'
import type { AccessTokenClaims } from './access-tokens.ts'
import { parseRefreshToken, refreshTokenStanding } from './refresh-tokens.ts'
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
  const parsed = parseRefreshToken(token)
  if (parsed.form === 'malformed') return { active: false }
  if (parsed.form === 'grant') {
    const grant = await ctx.store.findGrant(parsed.grantId)
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
  const grant = await grantToRevoke(token, client.clientId, ctx)
  if (grant !== undefined) await revokeGrantEverywhere(grant, 'client_revocation', ctx)
}

/** The grant `token` belongs to, when it is a token of `clientId`'s; undefined for anything else. */
async function grantToRevoke (token: string, clientId: string, ctx: AuthorizationServerContext): Promise<GrantRecord | undefined> {
  if (token.length > 8192) return undefined
  const claims = tryAccessToken(token, ctx)
  if (claims !== undefined) return claims.client_id === clientId ? await ctx.store.findGrant(claims.gid) : undefined
  const parsed = parseRefreshToken(token)
  if (parsed.form === 'malformed') return undefined
  if (parsed.form === 'grant') {
    // A rotated-out token of the grant revokes it too (as a used legacy token does); a made-up one does nothing.
    const grant = await ctx.store.findGrant(parsed.grantId)
    return grant !== undefined && grant.clientId === clientId && refreshTokenStanding(grant, sha256(token), ctx.clock.now()) !== 'unknown' ? grant : undefined
  }
  const refresh = await ctx.store.findRefreshToken(sha256(token))
  return refresh !== undefined && refresh.clientId === clientId ? await ctx.store.findGrant(refresh.grantId) : undefined
}
