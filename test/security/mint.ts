// Grants and tokens for tests that need a live token without the browser flow: a real client (through
// POST /register), a real grant in the store and tokens issued by the app's own rules (prepareTokens, as a code exchange does), so
// what /mcp, /introspect and /revoke see is exactly what /token would have produced.
import type { FastifyInstance } from 'fastify'
import { grantWithTokens, prepareTokens } from '../../src/oauth/grants/issue.ts'
import type { GrantRecord, UserIdentity } from '../../src/ports/records.ts'
import { randomToken } from '../../src/oauth/secrets.ts'

export interface RegisteredTestClient {
  clientId: string
  clientSecret?: string
  redirectUris: string[]
}

export async function registerTestClient (app: FastifyInstance, metadata: Record<string, unknown> = {}): Promise<RegisteredTestClient> {
  const response = await app.inject({
    method: 'POST',
    url: '/register',
    headers: { 'content-type': 'application/json' },
    // /register is limited per connection address; each registration here comes from its own.
    remoteAddress: `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.1`,
    payload: { redirect_uris: ['http://127.0.0.1:53682/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'test', ...metadata }
  })
  if (response.statusCode !== 201) throw new Error(`registration failed: ${response.statusCode} ${response.body}`)
  const body = response.json() as { client_id: string, client_secret?: string, redirect_uris: string[] }
  return { clientId: body.client_id, redirectUris: body.redirect_uris, ...(body.client_secret === undefined ? {} : { clientSecret: body.client_secret }) }
}

export interface MintedGrant {
  grant: GrantRecord
  accessToken: string
  refreshToken: string | undefined
}

/** A grant for `clientId` with tokens issued by the app's rules (and sealed upstream tokens when given). */
export async function mintGrant (app: FastifyInstance, clientId: string, options: { scope?: string[], identity?: UserIdentity, upstream?: { accessToken: string, refreshToken?: string } } = {}): Promise<MintedGrant> {
  const ctx = app.gatehouse.ctx
  const client = await ctx.store.findClient(clientId)
  if (client === undefined) throw new Error(`no client ${clientId}`)
  const now = ctx.clock.now()
  const grantId = randomToken(18)
  const grant: GrantRecord = {
    grantId,
    clientId,
    identity: options.identity ?? { sub: 'user-alice', email: 'alice@example.com', username: 'alice', groups: ['admins'] },
    scope: options.scope ?? ['mcp:read', 'mcp:write'],
    resource: ctx.resource,
    createdAt: now,
    expiresAt: now + ctx.ttl.grantMax
  }
  if (options.upstream !== undefined) grant.upstreamSealed = await ctx.cipher.seal(JSON.stringify(options.upstream), `grant:${grantId}`)
  const prepared = await prepareTokens(grant, client, grant.scope, ctx)
  await ctx.store.saveGrant(grantWithTokens(grant, prepared))
  return { grant, accessToken: prepared.response.access_token, refreshToken: prepared.response.refresh_token }
}
