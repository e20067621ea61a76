// Resource-server mode: access tokens from the trusted external issuers (e.g. Cognito), verified with
// `jose` against each issuer's JWKS (found through its discovery document). Issuer, RS256 and
// audience/client_id are pinned; only access tokens are accepted. jose's remote JWK set caches the keys,
// shares one fetch among concurrent requests and refetches for an unknown kid at most once per cooldown,
// so forged tokens with random kids cannot make us hammer an issuer.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { InvalidTokenError, OAuthError } from '../oauth/errors.ts'
import type { Caller } from './caller.ts'
import { freezeCaller, type BearerAuthenticator } from './bearer.ts'

export interface TrustedIssuerBearerOptions {
  /** Exact `iss` values accepted; each must serve `/.well-known/openid-configuration`. */
  issuers: readonly string[]
  /** Accepted `aud`, `client_id` or `azp` values. */
  audiences: readonly string[]
  /** Bound on one discovery or JWKS fetch. */
  timeoutMs: number
  /** Seconds of leeway on exp/nbf/iat. */
  clockSkewSeconds: number
  /** Milliseconds; injectable for tests. */
  now?: () => number
}

/** How long keys are used before the JWK set is fetched again. */
const KEYS_MAX_AGE_MS = 5 * 60_000
/** After a fetch, an unknown kid is refused without asking the issuer again for this long. */
const UNKNOWN_KID_COOLDOWN_MS = 10_000
/** After a failed discovery or JWKS fetch, the issuer is not asked again for this long. */
const FAILURE_BACKOFF_MS = 10_000

/** Cognito names custom scopes `<resource server id>/<scope>`; the tools ask for the bare scope. */
const resourceServerScope = (scope: string): string => scope.slice(scope.lastIndexOf('/') + 1)

/** One trusted issuer's keys: discovery once, then jose's remote JWK set. */
class IssuerKeys {
  readonly #issuer: string
  readonly #timeoutMs: number
  readonly #now: () => number
  #keys: Promise<JWTVerifyGetKey> | undefined
  #failedUntil = 0

  constructor (issuer: string, timeoutMs: number, now: () => number) {
    this.#issuer = issuer
    this.#timeoutMs = timeoutMs
    this.#now = now
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (this.#failedUntil > this.#now()) throw new InvalidTokenError(undefined, 'the issuer\'s keys could not be fetched moments ago')
    try {
      // A failed discovery is forgotten, so it is tried again after the backoff.
      this.#keys ??= this.#discover().catch((error: unknown) => { this.#keys = undefined; throw error })
      return await (await this.#keys)(header, token)
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw new InvalidTokenError(undefined, 'unknown kid; the issuer\'s keys were looked up moments ago')
      this.#failedUntil = this.#now() + FAILURE_BACKOFF_MS
      throw new InvalidTokenError(undefined, `JWKS: ${(error as Error).message}`)
    }
  }

  async #discover (): Promise<JWTVerifyGetKey> {
    const url = `${this.#issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
    const res = await fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs), headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`discovery answered HTTP ${res.status}`)
    const jwksUri = ((await res.json()) as { jwks_uri?: unknown } | null)?.jwks_uri
    if (typeof jwksUri !== 'string') throw new Error('discovery document has no jwks_uri')
    return createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.#timeoutMs,
      cooldownDuration: UNKNOWN_KID_COOLDOWN_MS,
      cacheMaxAge: KEYS_MAX_AGE_MS
    })
  }
}

export class TrustedIssuerBearer implements BearerAuthenticator {
  readonly #options: TrustedIssuerBearerOptions
  // Keyed by the configured issuers only, so it is bounded by the configuration.
  readonly #keys: ReadonlyMap<string, IssuerKeys>

  constructor (options: TrustedIssuerBearerOptions) {
    this.#options = options
    const now = options.now ?? Date.now
    this.#keys = new Map(options.issuers.map(issuer => [issuer, new IssuerKeys(issuer, options.timeoutMs, now)]))
  }

  async authenticate (token: string): Promise<Caller> {
    // Checked on the unverified token before any key lookup, so no other token causes a fetch.
    let keys: IssuerKeys | undefined
    try {
      const { alg, kid } = decodeProtectedHeader(token)
      const { iss } = decodeJwt(token)
      keys = alg === 'RS256' && typeof kid === 'string' && typeof iss === 'string' ? this.#keys.get(iss) : undefined
    } catch {
      throw new InvalidTokenError(undefined, 'malformed token')
    }
    if (keys === undefined) throw new InvalidTokenError(undefined, 'untrusted issuer, algorithm or kid')
    let claims: JWTPayload
    try {
      ({ payload: claims } = await jwtVerify(token, keys.getKey, {
        algorithms: ['RS256'],
        issuer: [...this.#options.issuers],
        clockTolerance: this.#options.clockSkewSeconds,
        requiredClaims: ['exp', 'iss', 'sub']
      }))
    } catch (error) {
      if (error instanceof OAuthError) throw error
      throw new InvalidTokenError(undefined, `${(error as { code?: string }).code ?? 'verify'}: ${(error as Error).message}`)
    }
    return this.#caller(claims)
  }

  #caller (claims: JWTPayload): Caller {
    // Cognito: access tokens say token_use=access and carry client_id instead of aud; ID tokens are refused.
    if (claims.token_use !== undefined && claims.token_use !== 'access') throw new InvalidTokenError(undefined, 'not an access token')
    const audiences = this.#options.audiences
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined
    const pinned = aud.some(a => typeof a === 'string' && audiences.includes(a)) || (clientId !== undefined && audiences.includes(clientId))
    if (!pinned) throw new InvalidTokenError(undefined, 'audience/client_id not trusted')
    const groups = claims['cognito:groups'] ?? claims.groups
    return freezeCaller({
      sub: String(claims.sub),
      ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
      scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean).map(resourceServerScope) : [],
      clientId: clientId ?? String(aud[0]),
      issuer: String(claims.iss),
      expiresAt: Number(claims.exp)
    })
  }
}
