// Issuing tokens for a grant: an access token always, a refresh token when the client may use one.
import { issueAccessToken } from '../access-tokens.ts'
import type { AuthorizationServerContext } from '../context.ts'
import type { ClientRecord, GrantRecord, GrantRefreshToken } from '../../ports/records.ts'
import { newRefreshToken } from '../refresh-tokens.ts'
import type { TokenResponse } from './types.ts'

/** Tokens signed and generated but not yet stored: everything that can fail without a store write. */
export interface PreparedTokens {
  response: TokenResponse
  /** What the grant stores of the new refresh token (its hash); undefined when the client gets none. */
  refreshToken: GrantRefreshToken | undefined
}

/** Signs an access token for `grant` with `scope`: the token response, without a refresh token yet. */
export async function signAccessToken (grant: GrantRecord, scope: string[], ctx: AuthorizationServerContext): Promise<TokenResponse> {
  // After a key rotation the verifier (/mcp, /introspect) must know the new key before a token signed by it
  // leaves this process; it keeps the previous keys the key set still publishes.
  if (!ctx.accessTokens.hasKey(ctx.keys.current.kid)) ctx.accessTokens.setKeys(await ctx.keys.publicKeys())
  const { token } = await issueAccessToken(grant, scope, { keys: ctx.keys, clock: ctx.clock, issuer: ctx.issuer, audience: grant.resource, ttlSeconds: ctx.ttl.accessToken })
  return { access_token: token, token_type: 'Bearer', expires_in: ctx.ttl.accessToken, scope: scope.join(' ') }
}

/**
 * A new grant's first tokens: signs the access token and draws the refresh token when the client may use
 * one. The code exchange calls this after its consuming write and gives the code back when it fails, so a
 * signing (KMS) failure leaves the code usable.
 */
export async function prepareTokens (grant: GrantRecord, client: ClientRecord, scope: string[], ctx: AuthorizationServerContext): Promise<PreparedTokens> {
  const response = await signAccessToken(grant, scope, ctx)
  if (!client.grantTypes.includes('refresh_token')) return { response, refreshToken: undefined }
  const refresh = newRefreshToken(grant, scope, ctx.clock.now(), ctx.ttl.refreshToken)
  response.refresh_token = refresh.token
  return { response, refreshToken: refresh.record }
}

/** A new grant as stored: with its first refresh token, so grant and token are one write. */
export function grantWithTokens (grant: GrantRecord, prepared: PreparedTokens): GrantRecord {
  return prepared.refreshToken === undefined ? grant : { ...grant, refreshToken: prepared.refreshToken, retiredRefreshTokens: [] }
}

/** A grant is usable when it exists, is not revoked and has not reached its cap. */
export function isGrantActive (grant: GrantRecord | undefined, now: number): grant is GrantRecord {
  return grant !== undefined && grant.revokedAt === undefined && grant.expiresAt > now
}
