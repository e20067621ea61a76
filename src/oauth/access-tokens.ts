// Access tokens: RS256 JWTs with `typ: at+jwt` (RFC 9068), audience-bound to the MCP resource (RFC 8707).
// Verification is synchronous against public keys held in memory: no network call on the hot path.
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto'
import { InvalidTokenError } from './errors.ts'
import type { Clock } from '../ports/clock.ts'
import type { KeySet, PublicJwk } from '../ports/keys.ts'
import type { UserIdentity } from '../ports/records.ts'
import { randomToken } from './secrets.ts'

export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string
  client_id: string
  scope: string
  groups: string[]
  email?: string
  jti: string
  gid: string
  iat: number
  nbf: number
  exp: number
}

export interface IssueAccessTokenOptions {
  keys: KeySet
  clock: Clock
  issuer: string
  audience: string
  ttlSeconds: number
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

export async function issueAccessToken (grant: { grantId: string, clientId: string, identity: UserIdentity }, scope: string[], options: IssueAccessTokenOptions): Promise<{ token: string, claims: AccessTokenClaims }> {
  const now = options.clock.now()
  const claims: AccessTokenClaims = {
    iss: options.issuer,
    sub: grant.identity.sub,
    aud: options.audience,
    client_id: grant.clientId,
    scope: scope.join(' '),
    groups: grant.identity.groups,
    jti: randomToken(16),
    gid: grant.grantId,
    iat: now,
    nbf: now,
    exp: now + options.ttlSeconds
  }
  if (grant.identity.email !== undefined) claims.email = grant.identity.email
  return { token: await signAccessTokenJwt(options.keys, claims), claims }
}

/** An RS256 `at+jwt` (RFC 9068) over `claims`, signed by the current key and naming it by `kid`. */
export async function signAccessTokenJwt (keys: KeySet, claims: object): Promise<string> {
  const signer = keys.current
  const signingInput = `${b64({ alg: 'RS256', typ: 'at+jwt', kid: signer.kid })}.${b64(claims)}`
  const signature = await signer.sign(Buffer.from(signingInput, 'ascii'))
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`
}

export interface VerifyOptions {
  issuer: string
  audience: string
  clock: Clock
  skewSeconds: number
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_TOKEN_LENGTH = 8192

/**
 * Verifies gatehouse access tokens against a set of public keys kept in memory. Strict: RS256 only,
 * `typ` at+jwt, known `kid`, exact issuer, audience containing the resource, exp/nbf/iat within skew.
 */
export class AccessTokenVerifier {
  #keys = new Map<string, KeyObject>()
  readonly #options: VerifyOptions

  constructor (options: VerifyOptions, jwks: PublicJwk[] = []) {
    this.#options = options
    this.setKeys(jwks)
  }

  /** Replaces the trusted keys (after a rotation). */
  setKeys (jwks: PublicJwk[]): void {
    const next = new Map<string, KeyObject>()
    for (const jwk of jwks) next.set(jwk.kid, createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }))
    this.#keys = next
  }

  hasKey (kid: string): boolean { return this.#keys.has(kid) }

  /** `audiences`: the resources the caller accepts (default: the configured one); the token must name one. */
  verify (token: string, audiences: readonly string[] = [this.#options.audience]): AccessTokenClaims {
    if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token)) throw new InvalidTokenError(undefined, 'not a compact JWS')
    const [headerPart, payloadPart, signaturePart] = token.split('.') as [string, string, string]
    const header = parseJson(headerPart) as { alg?: unknown, typ?: unknown, kid?: unknown, crit?: unknown }
    if (header.alg !== 'RS256') throw new InvalidTokenError(undefined, `alg ${String(header.alg)}`)
    if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) throw new InvalidTokenError(undefined, 'typ is not at+jwt')
    if (header.crit !== undefined) throw new InvalidTokenError(undefined, 'crit header not supported')
    if (typeof header.kid !== 'string') throw new InvalidTokenError(undefined, 'no kid')
    const key = this.#keys.get(header.kid)
    if (key === undefined) throw new InvalidTokenError(undefined, 'unknown kid')
    const valid = verifySignature('RSA-SHA256', Buffer.from(`${headerPart}.${payloadPart}`, 'ascii'), key, Buffer.from(signaturePart, 'base64url'))
    if (!valid) throw new InvalidTokenError(undefined, 'bad signature')
    const claims = parseJson(payloadPart) as Partial<AccessTokenClaims> & { aud?: unknown }
    const { issuer, clock, skewSeconds } = this.#options
    const now = clock.now()
    if (claims.iss !== issuer) throw new InvalidTokenError(undefined, 'wrong issuer')
    const named: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    const audience = audiences.find(a => named.includes(a))
    if (audience === undefined) throw new InvalidTokenError(undefined, 'wrong audience')
    if (typeof claims.exp !== 'number' || claims.exp + skewSeconds <= now) throw new InvalidTokenError(undefined, 'expired')
    if (typeof claims.nbf === 'number' && claims.nbf - skewSeconds > now) throw new InvalidTokenError(undefined, 'not yet valid')
    if (typeof claims.iat !== 'number' || claims.iat - skewSeconds > now) throw new InvalidTokenError(undefined, 'issued in the future')
    if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.gid !== 'string' || typeof claims.jti !== 'string') throw new InvalidTokenError(undefined, 'missing claims')
    if (typeof claims.scope !== 'string' || !Array.isArray(claims.groups)) throw new InvalidTokenError(undefined, 'missing claims')
    return { ...claims, aud: audience } as AccessTokenClaims
  }
}

function parseJson (part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch {
    throw new InvalidTokenError(undefined, 'malformed JWT')
  }
}
