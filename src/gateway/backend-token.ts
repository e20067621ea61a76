// What a backend receives instead of the client's token (MCP authorization forbids token passthrough):
// a short-lived RS256 JWT signed by gatehouse's own key (verifiable through /jwks.json), issued to the
// backend's URL for this user, modelled on an RFC 8693 token exchange: `act` names the client acting for
// the user. Tokens are reused while they have a minute left, so KMS signs once per user, client and backend
// every few minutes rather than on every call.
import type { Caller } from '../mcp/caller.ts'
import type { Clock } from '../ports/clock.ts'
import type { KeySet } from '../ports/keys.ts'
import { signAccessTokenJwt, type AccessTokenClaims } from '../oauth/access-tokens.ts'
import { randomToken } from '../oauth/secrets.ts'

/** The most a backend token lives (issue 14: at most 300 s). */
export const BACKEND_TOKEN_TTL = 300
/** A cached token is handed out only while it has at least this long left. */
const MIN_REMAINING = 60

/** An access token's claims for the backend's audience, without the grant id, plus RFC 8693 §4.1 `act`: the OAuth client acting for the user. */
export type BackendTokenClaims = Omit<AccessTokenClaims, 'gid'> & { act: { sub: string } }

export interface BackendTokenOptions {
  keys: KeySet
  clock: Clock
  issuer: string
  maxEntries?: number
}

interface Minted { token: string, exp: number, kid: string }

export class BackendTokens {
  readonly #options: BackendTokenOptions
  // Insertion-ordered and bounded like the grant-check cache (lru-cache is not in the Lambda bundle yet: BENCHMARKS.md).
  readonly #cache = new Map<string, Promise<Minted>>()
  readonly #max: number
  /** The cache key's caller part, per (frozen, per-token shared) caller: built once, not on every call. */
  readonly #callerKeys = new WeakMap<Caller, string>()

  constructor (options: BackendTokenOptions) {
    this.#options = options
    this.#max = options.maxEntries ?? 10_000
  }

  /** A token for `audience` (the backend's URL) on behalf of `caller`. */
  async tokenFor (audience: string, caller: Caller): Promise<string> {
    let callerKey = this.#callerKeys.get(caller)
    if (callerKey === undefined) {
      callerKey = [caller.grantId ?? '', caller.sub, caller.clientId, caller.scopes.join(' '), caller.groups.join('\n'), caller.email ?? ''].join('\0')
      this.#callerKeys.set(caller, callerKey)
    }
    const key = `${audience}\0${callerKey}`
    const now = this.#options.clock.now()
    const cached = this.#cache.get(key)
    if (cached !== undefined) {
      const minted = await cached
      if (minted.exp - now >= MIN_REMAINING && this.#options.keys.current.kid === minted.kid) return minted.token
    }
    const minting = this.#mint(audience, caller, now)
    this.#cache.delete(key)
    if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(key, minting)
    // A signing failure is not remembered: the next call tries again.
    minting.catch(() => { if (this.#cache.get(key) === minting) this.#cache.delete(key) })
    return (await minting).token
  }

  async #mint (audience: string, caller: Caller, now: number): Promise<Minted> {
    // Never outlive the client's own token: revocation and expiry of the grant bound the backend's view too.
    const exp = Math.max(now + 1, Math.min(now + BACKEND_TOKEN_TTL, caller.expiresAt))
    const claims: BackendTokenClaims = {
      iss: this.#options.issuer,
      sub: caller.sub,
      aud: audience,
      client_id: caller.clientId,
      scope: caller.scopes.join(' '),
      groups: [...caller.groups],
      act: { sub: caller.clientId },
      jti: randomToken(16),
      iat: now,
      nbf: now,
      exp
    }
    if (caller.email !== undefined) claims.email = caller.email
    const token = await signAccessTokenJwt(this.#options.keys, claims)
    return { token, exp, kid: kidOf(token) }
  }
}

function kidOf (token: string): string {
  return String((JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { kid?: unknown }).kid)
}
