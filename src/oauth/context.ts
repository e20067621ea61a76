import type { ClientRulesOptions } from './clients.ts'
import type { ClientMetadataDocumentFetcher } from '../ports/client-metadata.ts'
import type { AuditLog } from '../ports/audit.ts'
import type { Cipher } from '../ports/cipher.ts'
import type { Clock } from '../ports/clock.ts'
import type { KeySet } from '../ports/keys.ts'
import type { Store } from '../ports/store.ts'
import type { UpstreamIdp } from '../ports/upstream.ts'
import type { AccessTokenVerifier } from './access-tokens.ts'

export interface Lifetimes {
  accessToken: number
  code: number
  transaction: number
  refreshToken: number
  grantMax: number
  consent: number
  /** Seconds a registered client lives without a new grant; 0 = forever. */
  clientUnused?: number
}

/** Everything the authorization server's rules need, wired once in app.ts. */
export interface AuthorizationServerContext {
  store: Store
  clock: Clock
  keys: KeySet
  cipher: Cipher
  upstream: UpstreamIdp
  audit: AuditLog
  accessTokens: AccessTokenVerifier
  /** Public base URL; the `iss` of tokens and authorization responses. */
  issuer: string
  /** The MCP resource URL: the audience of a token whose authorization request named no resource. */
  resource: string
  /** Every protected resource (RFC 8707) tokens may be issued for: `resource` and the gateway's backends. */
  resources?: readonly string[] | undefined
  scopes: string[]
  defaultScopes: string[]
  redirectSchemes: string[]
  /** Clients allowed to introspect tokens issued to others (resource servers). */
  introspectionClients: string[]
  ttl: Lifetimes
  metadataDocuments?: ClientMetadataDocumentFetcher | undefined
}

/** The resources a token may name: `resources`, or only the /mcp URL when none are configured. */
export function protectedResources (ctx: Pick<AuthorizationServerContext, 'resource' | 'resources'>): readonly string[] {
  return ctx.resources ?? [ctx.resource]
}

export function clientRules (ctx: AuthorizationServerContext): ClientRulesOptions {
  return { clients: ctx.store, clock: ctx.clock, scopes: ctx.scopes, redirectSchemes: ctx.redirectSchemes, issuer: ctx.issuer, metadataDocuments: ctx.metadataDocuments, unusedClientTtl: ctx.ttl.clientUnused ?? 0 }
}
