// Mints real gatehouse access tokens for tests: a grant saved in the app's store (optionally holding sealed
// upstream tokens) and an RS256 token from the app's own keys, exactly as /token would issue them.
import { randomUUID } from 'node:crypto'
import { issueAccessToken, type AccessTokenClaims } from '../../src/oauth/access-tokens.ts'
import type { Cipher } from '../../src/ports/cipher.ts'
import type { Clock } from '../../src/ports/clock.ts'
import type { KeySet } from '../../src/ports/keys.ts'
import type { GrantRecord } from '../../src/ports/records.ts'
import type { GrantStore } from '../../src/ports/store.ts'
import type { UpstreamTokens } from '../../src/ports/upstream.ts'
import type { Config } from '../../src/config.ts'

/** What minting needs: the app's config and the very keys, cipher, clock and store it was built with. */
export interface MintContext {
  config: Config
  store: Pick<GrantStore, 'saveGrant'>
  keys: KeySet
  cipher: Cipher
  clock: Clock
}

export interface MintOptions {
  sub?: string
  email?: string
  groups?: string[]
  scope?: string[]
  clientId?: string
  /** Sealed onto the grant with the app's cipher, as the callback does. */
  upstream?: UpstreamTokens
  /** Seconds; default the app's access token TTL. */
  ttlSeconds?: number
  /** Grant lifetime in seconds; default 1 day. */
  grantTtlSeconds?: number
  /** Do not save the grant (a token whose grant never existed). */
  noGrant?: boolean
  /** The protected resource (RFC 8707) the grant and token are for; default the /mcp URL. */
  resource?: string
}

export interface MintedToken {
  token: string
  claims: AccessTokenClaims
  grant: GrantRecord
}

export async function mintToken (services: MintContext, options: MintOptions = {}): Promise<MintedToken> {
  const { config } = services
  const now = services.clock.now()
  const grantId = randomUUID()
  const identity = {
    sub: options.sub ?? 'user-1',
    groups: options.groups ?? [],
    ...(options.email === undefined ? {} : { email: options.email })
  }
  const scope = options.scope ?? ['mcp:read', 'mcp:write']
  const grant: GrantRecord = {
    grantId,
    clientId: options.clientId ?? 'test-client',
    identity,
    scope,
    resource: options.resource ?? config.resourceUrl,
    createdAt: now,
    expiresAt: now + (options.grantTtlSeconds ?? 86400)
  }
  if (options.upstream !== undefined) {
    grant.upstreamSealed = await services.cipher.seal(JSON.stringify(options.upstream), `grant:${grantId}`)
    if (options.upstream.expiresAt !== undefined) grant.upstreamExpiresAt = options.upstream.expiresAt
  }
  if (options.noGrant !== true) await services.store.saveGrant(grant)
  const { token, claims } = await issueAccessToken({ grantId, clientId: grant.clientId, identity }, scope, {
    keys: services.keys,
    clock: services.clock,
    issuer: config.publicUrl,
    audience: grant.resource,
    ttlSeconds: options.ttlSeconds ?? config.ttl.accessToken
  })
  return { token, claims, grant }
}
