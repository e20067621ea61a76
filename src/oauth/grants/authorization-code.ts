// RFC 6749 §4.1.3 with OAuth 2.1 PKCE. Everything is validated before the code is consumed
// (DESIGN decision 3); a code presented after it was consumed revokes the grant it produced. A new grant
// keeps its client registered (CLIENT_UNUSED_DAYS).
import { protectedResources, type AuthorizationServerContext } from '../context.ts'
import { InvalidGrantError, InvalidRequestError } from '../errors.ts'
import { verifyCodeVerifier } from '../pkce.ts'
import { extendClientLife } from '../clients.ts'
import type { AuthorizationCodeRecord, ClientRecord, GrantRecord } from '../../ports/records.ts'
import { StoreConflictError } from '../../ports/store.ts'
import { resolveResource } from '../resource.ts'
import { sha256 } from '../secrets.ts'
import { commitTokens, prepareTokens } from './issue.ts'
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

async function revokeForReuse (code: AuthorizationCodeRecord, grantId: string | undefined, clientId: string, ctx: AuthorizationServerContext): Promise<void> {
  if (grantId === undefined) return
  const now = ctx.clock.now()
  // The first redemption may not have saved its grant yet (revoking a missing grant does nothing): create it
  // already revoked, so that redemption's own save fails and it issues nothing.
  try {
    await ctx.store.saveGrant({ ...grantFromCode(code, grantId, now, ctx), revokedAt: now })
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error
    await ctx.store.revokeGrant(grantId, now)
  }
  ctx.audit.event('code.reuse_detected', { clientId, grantId })
  ctx.audit.event('grant.revoked', { clientId, grantId, reason: 'code_reuse' })
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
    const code = await ctx.store.findCode(codeHash)
    if (code === undefined) throw new InvalidGrantError('authorization code is invalid or expired')
    if (code.clientId !== client.clientId) throw new InvalidGrantError('authorization code was issued to another client')
    if (code.consumedAt !== undefined) {
      await revokeForReuse(code, code.grantId, client.clientId, ctx)
      throw new InvalidGrantError('authorization code was already used', 'reuse')
    }
    // OAuth 2.1 §4.1.3: redirect_uri is required here exactly when the authorization request carried it.
    if (params.redirect_uri === undefined) {
      if (code.redirectUriOmitted !== true) throw new InvalidRequestError('redirect_uri is required')
    } else if (code.redirectUri !== params.redirect_uri) {
      throw new InvalidGrantError('redirect_uri does not match the authorization request')
    }
    verifyCodeVerifier(params.code_verifier, code.codeChallenge)
    // RFC 8707 §2.2: without `resource` the token is for what the authorization request named.
    const resource = resolveResource(params.resource, protectedResources(ctx), code.resource)
    if (resource !== code.resource) throw new InvalidGrantError('resource does not match the authorization request')

    const grantId = code.grantId as string
    const grant = grantFromCode(code, grantId, now, ctx)
    // Sign before consuming: a KMS failure must not burn the code.
    const prepared = await prepareTokens(grant, client, grant.scope, ctx)
    const consumed = await ctx.store.consumeCode(codeHash, grantId, now)
    if (!consumed.won) {
      await revokeForReuse(code, consumed.record?.grantId ?? grantId, client.clientId, ctx)
      throw new InvalidGrantError('authorization code was already used', 'lost redemption race')
    }
    try {
      await ctx.store.saveGrant(grant)
    } catch (error) {
      // A concurrent reuse of this code got there first and left the grant revoked.
      if (error instanceof StoreConflictError) throw new InvalidGrantError('authorization code was already used', 'revoked by a concurrent redemption')
      throw error
    }
    const response = await commitTokens(prepared, ctx)
    // After the code is spent a failure must not answer 503 (the retry would look like reuse); the next grant extends again.
    await extendClientLife(client, grant.expiresAt, { clients: ctx.store, clock: ctx.clock, unusedClientTtl: ctx.ttl.clientUnused }).catch(() => undefined)
    ctx.audit.event('grant.issued', { clientId: client.clientId, sub: grant.identity.sub, grantId, scope: response.scope })
    return response
  }
}
