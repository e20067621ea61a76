import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import type { PublicJwk } from '../ports/keys.ts'

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key: the required members, sorted, no whitespace. */
export function rsaThumbprint (n: string, e: string): string {
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url')
}

/** The public JWK of an RSA key (private or public KeyObject), with kid = its RFC 7638 thumbprint. */
export function rsaPublicJwk (key: KeyObject): PublicJwk {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  if (publicKey.asymmetricKeyType !== 'rsa') throw new TypeError(`expected an RSA key, got ${publicKey.asymmetricKeyType ?? key.type}`)
  const { n, e } = publicKey.export({ format: 'jwk' })
  if (typeof n !== 'string' || typeof e !== 'string') throw new TypeError('RSA key without modulus or exponent')
  return { kty: 'RSA', n, e, kid: rsaThumbprint(n, e), alg: 'RS256', use: 'sig' }
}
