// Bearer tokens for /mcp (RFC 6750, RFC 9068, MCP authorization): extraction, the WWW-Authenticate
// challenge, and gatehouse's own tokens — a synchronous signature check (keys in memory) plus a grant check
// (revocation, DESIGN decision 7) through a small bounded cache. No network call on the hot path.
import { InvalidTokenError, MissingTokenError, TemporarilyUnavailableError } from '../oauth/errors.ts'
import type { AccessTokenClaims, AccessTokenVerifier } from '../oauth/access-tokens.ts'
import type { Clock } from '../ports/clock.ts'
import type { GrantRecord } from '../ports/records.ts'
import type { GrantStore } from '../ports/store.ts'
import type { Caller } from './caller.ts'

/** The token of an `Authorization: Bearer …` header; undefined when there is no bearer credential at all. */
export function bearerToken (header: string | undefined): string | undefined {
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined
  return header.slice(7).trim()
}

/**
 * One bearer check, as the `/mcp` and gateway hooks run it: no token is MissingTokenError and an empty one
 * InvalidTokenError (both refused with no token to act on); otherwise `authenticate` decides. Its verdict may be
 * synchronous (a cached one), so no promise is made per request then. `admit` gets the caller, `refuse` the error.
 */
export function checkBearer (
  authorization: string | undefined,
  authenticate: (token: string) => Caller | Promise<Caller>,
  admit: (caller: Caller) => void,
  refuse: (error: Error, token: string | undefined) => void
): void {
  const token = bearerToken(authorization)
  if (token === undefined) { refuse(new MissingTokenError(), undefined); return }
  if (token === '') { refuse(new InvalidTokenError(undefined, 'empty bearer token'), undefined); return }
  let result: Caller | Promise<Caller>
  try {
    result = authenticate(token)
  } catch (error) {
    refuse(error as Error, token)
    return
  }
  if (result instanceof Promise) result.then(admit, error => refuse(error as Error, token))
  else admit(result)
}

export interface ChallengeOptions {
  resourceMetadata: string
  error?: string
  description?: string
  scope?: string
}

/** RFC 6750 §3 + RFC 9728 §5.1: the challenge MCP clients read to find the authorization server or step up. */
export function wwwAuthenticate (options: ChallengeOptions): string {
  const params: string[] = []
  if (options.error !== undefined) params.push(`error="${options.error}"`)
  if (options.description !== undefined) params.push(`error_description="${options.description.replace(/["\\]/g, '')}"`)
  if (options.scope !== undefined) params.push(`scope="${options.scope}"`)
  params.push(`resource_metadata="${options.resourceMetadata}"`)
  return `Bearer ${params.join(', ')}`
}

/** Something that turns a bearer token into a caller, or throws an OAuthError (401/503). */
export interface BearerAuthenticator {
  authenticate (token: string): Caller | Promise<Caller>
}

interface Bounded<V> { map: Map<string, V>, max: number }

function remember<V> (cache: Bounded<V>, key: string, value: V): void {
  if (cache.map.size >= cache.max && !cache.map.has(key)) {
    const oldest = cache.map.keys().next().value
    if (oldest !== undefined) cache.map.delete(oldest)
  }
  cache.map.set(key, value)
}

export interface GrantCheckOptions {
  store: Pick<GrantStore, 'findGrant'>
  clock: Clock
  /** Seconds a result is reused; 0 = ask the store on every request. */
  ttlSeconds: number
  maxEntries?: number
}

interface GrantVerdict { grant: Pick<GrantRecord, 'clientId' | 'expiresAt' | 'revokedAt'> & { sub: string } | undefined, until: number }

/**
 * Is the grant behind a token still live? Absent, revoked or expired → invalid_token. Results live for
 * `ttlSeconds`, bounded in number; concurrent misses for one grant share a single store read.
 * A store failure is 503, never cached.
 */
export class GrantCheck {
  readonly #options: GrantCheckOptions
  readonly #cache: Bounded<GrantVerdict>
  readonly #inFlight = new Map<string, Promise<GrantVerdict>>()

  constructor (options: GrantCheckOptions) {
    this.#options = options
    this.#cache = { map: new Map(), max: options.maxEntries ?? 10_000 }
  }

  /** Synchronous when the verdict is cached: the hot path allocates no promise. */
  check (claims: Pick<AccessTokenClaims, 'gid' | 'sub' | 'client_id'>): void | Promise<void> {
    const now = this.#options.clock.now()
    const cached = this.#options.ttlSeconds > 0 ? this.#cache.map.get(claims.gid) : undefined
    if (cached !== undefined && cached.until > now) return judge(cached, claims, now)
    return this.#lookup(claims.gid, now).then(verdict => judge(verdict, claims, this.#options.clock.now()))
  }

  /** Forgets a grant (tests, or a revocation seen by this instance). */
  forget (grantId: string): void { this.#cache.map.delete(grantId) }

  get size (): number { return this.#cache.map.size }

  #lookup (grantId: string, now: number): Promise<GrantVerdict> {
    const shared = this.#options.ttlSeconds > 0
    const running = shared ? this.#inFlight.get(grantId) : undefined
    if (running !== undefined) return running
    const read = (async (): Promise<GrantVerdict> => {
      let record: GrantRecord | undefined
      try {
        record = await this.#options.store.findGrant(grantId)
      } catch (error) {
        throw new TemporarilyUnavailableError(undefined, `grant check failed: ${(error as Error).message}`)
      }
      const verdict: GrantVerdict = {
        grant: record === undefined ? undefined : { clientId: record.clientId, expiresAt: record.expiresAt, ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt }), sub: record.identity.sub },
        until: now + this.#options.ttlSeconds
      }
      if (shared) remember(this.#cache, grantId, verdict)
      return verdict
    })()
    if (shared) {
      this.#inFlight.set(grantId, read)
      void read.then(() => this.#inFlight.delete(grantId), () => this.#inFlight.delete(grantId))
    }
    return read
  }
}

function judge (verdict: GrantVerdict, claims: Pick<AccessTokenClaims, 'sub' | 'client_id'>, now: number): void {
  const { grant } = verdict
  if (grant === undefined) throw new InvalidTokenError(undefined, 'grant not found')
  if (grant.revokedAt !== undefined) throw new InvalidTokenError(undefined, 'grant revoked')
  if (grant.expiresAt <= now) throw new InvalidTokenError(undefined, 'grant expired')
  if (grant.clientId !== claims.client_id || grant.sub !== claims.sub) throw new InvalidTokenError(undefined, 'token does not match its grant')
}

export interface GatehouseBearerOptions {
  verifier: Pick<AccessTokenVerifier, 'verify' | 'hasKey'>
  grants: GrantCheck
  clock: Clock
  skewSeconds: number
  /** Verified tokens remembered (by their exact text) so a token's RSA signature is checked once. */
  maxVerifiedTokens?: number
}

interface VerifiedToken { claims: AccessTokenClaims, kid: string, caller: Caller }

/**
 * gatehouse's own access tokens. The first sight of a token goes through the AccessTokenVerifier (RS256,
 * iss, aud = the /mcp URL, exp/nbf with skew, typ at+jwt). The exact token text is then remembered, so
 * later requests with it skip the RSA check (~55 µs here) but still re-check time claims and that its key
 * is still trusted; the grant is checked on every request.
 */
export class GatehouseBearer implements BearerAuthenticator {
  readonly #options: GatehouseBearerOptions
  readonly #verified: Bounded<VerifiedToken>

  constructor (options: GatehouseBearerOptions) {
    this.#options = options
    this.#verified = { map: new Map(), max: options.maxVerifiedTokens ?? 10_000 }
  }

  authenticate (token: string): Caller | Promise<Caller> {
    const entry = this.#verified.map.get(token) ?? this.#verify(token)
    const now = this.#options.clock.now()
    const { claims } = entry
    if (claims.exp + this.#options.skewSeconds <= now || !this.#options.verifier.hasKey(entry.kid)) {
      this.#verified.map.delete(token)
      throw new InvalidTokenError(undefined, 'expired or key retired')
    }
    const pending = this.#options.grants.check(claims)
    return pending === undefined ? entry.caller : pending.then(() => entry.caller)
  }

  /**
   * The caller of a token that passes every check but the grant's (signature, issuer, audience, time, key still
   * trusted), or undefined. For what must still be done for a grant that is no longer live: the gateway ends
   * the backend session such a request names. Never admits anything.
   */
  verifiedCaller (token: string): Caller | undefined {
    let entry: VerifiedToken
    try {
      entry = this.#verified.map.get(token) ?? this.#verify(token)
    } catch {
      return undefined
    }
    if (entry.claims.exp + this.#options.skewSeconds <= this.#options.clock.now() || !this.#options.verifier.hasKey(entry.kid)) return undefined
    return entry.caller
  }

  #verify (token: string): VerifiedToken {
    const claims = this.#options.verifier.verify(token)
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { kid: string }
    const caller = freezeCaller({
      sub: claims.sub,
      ...(claims.email === undefined ? {} : { email: claims.email }),
      groups: claims.groups.filter((g): g is string => typeof g === 'string'),
      scopes: claims.scope.split(' ').filter(Boolean),
      clientId: claims.client_id,
      grantId: claims.gid,
      issuer: claims.iss,
      expiresAt: claims.exp
    })
    const entry = { claims, kid: header.kid, caller }
    remember(this.#verified, token, entry)
    return entry
  }
}

/** Callers are shared by every request with the same token, so nothing may change them. */
export function freezeCaller (caller: Caller): Caller {
  Object.freeze(caller.groups)
  Object.freeze(caller.scopes)
  return Object.freeze(caller)
}
