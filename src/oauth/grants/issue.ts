// Issuing tokens for a grant: an access token always, a refresh token when the client may use one.
import { issueAccessToken } from '../access-tokens.ts'
import type { AuthorizationServerContext } from '../context.ts'
import type { ClientRecord, GrantRecord } from '../ports.ts'
import { randomToken, sha256 } from '../secrets.ts'
import type { TokenResponse } from './types.ts'

export async function issueTokens (grant: GrantRecord, client: ClientRecord, scope: string[], ctx: AuthorizationServerContext): Promise<TokenResponse> {
  // After a key rotation the verifier (/mcp, /introspect) must know the new key before a token signed by it
  // leaves this process; it keeps the previous keys the key set still publishes.
  if (!ctx.accessTokens.hasKey(ctx.keys.current.kid)) ctx.accessTokens.setKeys(await ctx.keys.publicKeys())
  const { token } = await issueAccessToken(grant, scope, { keys: ctx.keys, clock: ctx.clock, issuer: ctx.issuer, audience: grant.resource, ttlSeconds: ctx.ttl.accessToken })
  const response: TokenResponse = { access_token: token, token_type: 'Bearer', expires_in: ctx.ttl.accessToken, scope: scope.join(' ') }
  if (client.grantTypes.includes('refresh_token')) {
    const refreshToken = randomToken()
    const now = ctx.clock.now()
    // Sliding expiry, never past the grant's absolute cap.
    await ctx.store.saveRefreshToken({
      tokenHash: sha256(refreshToken),
      grantId: grant.grantId,
      clientId: client.clientId,
      scope,
      createdAt: now,
      expiresAt: Math.min(now + ctx.ttl.refreshToken, grant.expiresAt)
    })
    response.refresh_token = refreshToken
  }
  return response
}

/** A grant is usable when it exists, is not revoked and has not reached its cap. */
export function isGrantActive (grant: GrantRecord | undefined, now: number): grant is GrantRecord {
  return grant !== undefined && grant.revokedAt === undefined && grant.expiresAt > now
}
