// Issuing tokens for a grant: an access token always, a refresh token when the client may use one.
import { issueAccessToken } from '../access-tokens.ts'
import type { AuthorizationServerContext } from '../context.ts'
import type { ClientRecord, GrantRecord, RefreshTokenRecord } from '../../ports/records.ts'
import { randomToken, sha256 } from '../secrets.ts'
import type { TokenResponse } from './types.ts'

/** Tokens signed and generated but not yet stored: everything that can fail without a store write. */
export interface PreparedTokens {
  response: TokenResponse
  refreshRecord: RefreshTokenRecord | undefined
}

/**
 * Signs the access token and draws the refresh token. Grants call this before their single-use transition,
 * so a signing (KMS) failure leaves the code or refresh token untouched and the client can simply retry.
 */
export async function prepareTokens (grant: GrantRecord, client: ClientRecord, scope: string[], ctx: AuthorizationServerContext): Promise<PreparedTokens> {
  // After a key rotation the verifier (/mcp, /introspect) must know the new key before a token signed by it
  // leaves this process; it keeps the previous keys the key set still publishes.
  if (!ctx.accessTokens.hasKey(ctx.keys.current.kid)) ctx.accessTokens.setKeys(await ctx.keys.publicKeys())
  const { token } = await issueAccessToken(grant, scope, { keys: ctx.keys, clock: ctx.clock, issuer: ctx.issuer, audience: grant.resource, ttlSeconds: ctx.ttl.accessToken })
  const response: TokenResponse = { access_token: token, token_type: 'Bearer', expires_in: ctx.ttl.accessToken, scope: scope.join(' ') }
  if (!client.grantTypes.includes('refresh_token')) return { response, refreshRecord: undefined }
  const refreshToken = randomToken()
  const now = ctx.clock.now()
  response.refresh_token = refreshToken
  // Sliding expiry, never past the grant's absolute cap.
  return {
    response,
    refreshRecord: { tokenHash: sha256(refreshToken), grantId: grant.grantId, clientId: client.clientId, scope, createdAt: now, expiresAt: Math.min(now + ctx.ttl.refreshToken, grant.expiresAt) }
  }
}

/** Stores the refresh token (if any) and returns the token response. */
export async function commitTokens (prepared: PreparedTokens, ctx: AuthorizationServerContext): Promise<TokenResponse> {
  if (prepared.refreshRecord !== undefined) await ctx.store.saveRefreshToken(prepared.refreshRecord)
  return prepared.response
}

export async function issueTokens (grant: GrantRecord, client: ClientRecord, scope: string[], ctx: AuthorizationServerContext): Promise<TokenResponse> {
  return await commitTokens(await prepareTokens(grant, client, scope, ctx), ctx)
}

/** A grant is usable when it exists, is not revoked and has not reached its cap. */
export function isGrantActive (grant: GrantRecord | undefined, now: number): grant is GrantRecord {
  return grant !== undefined && grant.revokedAt === undefined && grant.expiresAt > now
}
