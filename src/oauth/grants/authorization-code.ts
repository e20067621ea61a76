// RFC 6749 §4.1.3 with OAuth 2.1 PKCE. The code is checked and consumed by one conditional write: client,
// redirect_uri, PKCE and resource are part of its condition, so a request that does not match leaves the code
// alone (DESIGN decision 3) and a match consumes it without a read first. A code presented after it was
// consumed revokes the grant it produced. A new grant keeps its client registered (CLIENT_UNUSED_DAYS).
import { protectedResources, type AuthorizationServerContext } from '../context.ts'
import { InvalidGrantError, InvalidRequestError, InvalidTargetError, type OAuthError } from '../errors.ts'
import { isWellFormedVerifier, s256, verifyCodeVerifier } from '../pkce.ts'
import { extendClientLife } from '../clients.ts'
import type { AuthorizationCodeRecord, ClientRecord, GrantRecord } from '../../ports/records.ts'
import { StoreConflictError } from '../../ports/store.ts'
import { resolveResource } from '../resource.ts'
import { randomToken, safeEqual, sha256 } from '../secrets.ts'
import { grantWithTokens, prepareTokens, type PreparedTokens } from './issue.ts'
import type { GrantHandler, TokenParams } from './types.ts'

function grantFromCode (code: AuthorizationCodeRecord, grantId: string, now: number, ctx: AuthorizationServerContext): GrantRecord {
  const grant: GrantRecord = {
    grantId,
    clientId: code.clientId,
    identity: code.identity,
    scope: code.scope,
    resource: code.resource,
    createdAt: now,
    expiresAt: now + ctx.ttl.grantMax
  }
  if (code.upstreamSealed !== undefined) grant.upstreamSealed = code.upstreamSealed
  if (code.upstreamExpiresAt !== undefined) grant.upstreamExpiresAt = code.upstreamExpiresAt
  return grant
}

async function revokeForReuse (code: AuthorizationCodeRecord, clientId: string, ctx: AuthorizationServerContext): Promise<void> {
  const grantId = code.grantId
  const now = ctx.clock.now()
  // The first redemption may not have saved its grant yet (revoking a missing grant does nothing): create it
  // already revoked, so that redemption's own save fails and it issues nothing.
  let revoked = true
  try {
    await ctx.store.saveGrant({ ...grantFromCode(code, grantId, now, ctx), revokedAt: now })
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error
    revoked = await ctx.store.revokeGrant(grantId, now)
  }
  // Audited once, by the replay that revoked it.
  if (!revoked) return
  ctx.audit.event('code.reuse_detected', { clientId, grantId })
  ctx.audit.event('grant.revoked', { clientId, grantId, reason: 'code_reuse' })
}

/**
 * Why a redemption was refused, from the code as it is after the refused write, checked in the order the
 * spec gives the errors; a code already consumed revokes what it produced.
 */
async function refusal (code: AuthorizationCodeRecord | undefined, params: TokenParams, requestedResource: string | undefined, client: ClientRecord, ctx: AuthorizationServerContext, last?: OAuthError): Promise<OAuthError> {
  if (code === undefined) return new InvalidGrantError('authorization code is invalid or expired')
  if (code.clientId !== client.clientId) return new InvalidGrantError('authorization code was issued to another client')
  if (code.consumedAt !== undefined) {
    await revokeForReuse(code, client.clientId, ctx)
    return new InvalidGrantError('authorization code was already used', 'reuse')
  }
  // OAuth 2.1 §4.1.3: redirect_uri is required here exactly when the authorization request carried it.
  if (params.redirect_uri === undefined) {
    if (code.redirectUriOmitted !== true) return new InvalidRequestError('redirect_uri is required')
  } else if (code.redirectUri !== params.redirect_uri) {
    return new InvalidGrantError('redirect_uri does not match the authorization request')
  }
  try {
    verifyCodeVerifier(params.code_verifier, code.codeChallenge)
  } catch (error) {
    return error as OAuthError
  }
  if (last !== undefined) return last
  // RFC 8707 §2.2: a resource the authorization request did not name is not this code's to give.
  if (requestedResource !== undefined && requestedResource !== code.resource) return new InvalidTargetError('resource does not match the authorization request')
  // Everything matched the code as it now is: it expired at the instant of the write.
  return new InvalidGrantError('authorization code is invalid or expired', 'expired during redemption')
}

export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  async handle (params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext) {
    if (params.code === undefined || params.code === '') throw new InvalidRequestError('code is required')
    if (params.code_verifier === undefined) throw new InvalidRequestError('code_verifier is required')
    if (params.code.length > 200) throw new InvalidGrantError()
    const now = ctx.clock.now()
    const codeHash = sha256(params.code)
    // RFC 8707 §2.2: without `resource` the token is for what the authorization request named (the code's).
    let requestedResource: string | undefined
    try {
      requestedResource = params.resource === undefined || params.resource === '' ? undefined : resolveResource(params.resource, protectedResources(ctx), '')
    } catch (error) {
      // invalid_target, but only once the code itself has passed its checks (as a consumed code still revokes).
      throw await refusal(await ctx.store.findCode(codeHash), params, undefined, client, ctx, error as OAuthError)
    }
    // The write compares S256(verifier) only: a malformed verifier (too short, not ASCII) must not redeem.
    if (!isWellFormedVerifier(params.code_verifier)) throw await refusal(await ctx.store.findCode(codeHash), params, requestedResource, client, ctx)
    const consumedBy = randomToken(16)
    const consumed = await ctx.store.consumeCode(codeHash, { clientId: client.clientId, codeChallenge: s256(params.code_verifier), redirectUri: params.redirect_uri, resource: requestedResource, consumedBy }, now)
    // Consumed by this very request: its write committed but the answer was lost, and the store client's retry
    // of it failed the condition. It won; anyone else finding the code consumed is a replay.
    const code = consumed.won || (consumed.record !== undefined && consumed.record.consumedBy !== undefined && safeEqual(consumed.record.consumedBy, consumedBy)) ? consumed.record : undefined
    if (code === undefined) throw await refusal(consumed.record, params, requestedResource, client, ctx)
    const grant = grantFromCode(code, code.grantId, now, ctx)
    let prepared: PreparedTokens
    try {
      prepared = await prepareTokens(grant, client, grant.scope, ctx)
    } catch (error) {
      // Nothing was issued: give the code back so the client's retry redeems it (a KMS failure must not burn
      // it). Should that write fail too, the code stays spent and the retry is answered invalid_grant.
      await ctx.store.releaseCode(codeHash, consumedBy).catch(() => undefined)
      throw error
    }
    try {
      await ctx.store.saveGrant(grantWithTokens(grant, prepared))
    } catch (error) {
      // A concurrent reuse of this code got there first and left the grant revoked.
      if (error instanceof StoreConflictError) throw new InvalidGrantError('authorization code was already used', 'revoked by a concurrent redemption')
      throw error
    }
    // After the code is spent a failure must not answer 503 (the retry would look like reuse); the next grant extends again.
    await extendClientLife(client, grant.expiresAt, { clients: ctx.store, clock: ctx.clock, unusedClientTtl: ctx.ttl.clientUnused }).catch(() => undefined)
    ctx.audit.event('grant.issued', { clientId: client.clientId, sub: grant.identity.sub, grantId: grant.grantId, scope: prepared.response.scope })
    return prepared.response
  }
}
