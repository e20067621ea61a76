// Test helpers: build a JWT with a Signer the way the token rules will, and verify it only from the
// published JWKS, with node crypto and with fast-jwt (what a resource server would do).
import { createPublicKey, verify } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import type { PublicJwk, Signer } from '../../src/ports/keys.ts'

export async function signJwt (signer: Signer, claims: Record<string, unknown>): Promise<string> {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: signer.kid })).toString('base64url')
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const signature = await signer.sign(Buffer.from(`${header}.${payload}`))
  return `${header}.${payload}.${Buffer.from(signature).toString('base64url')}`
}

export function jwkToPem (jwk: PublicJwk): string {
  return createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
}

/** node crypto: RSASSA-PKCS1-v1_5 / SHA-256 over `data` with the JWK's key. */
export function verifiesWithJwk (jwk: PublicJwk, data: Uint8Array, signature: Uint8Array): boolean {
  return verify('sha256', data, jwkToPem(jwk), signature)
}

/** fast-jwt, picking the key by the token's kid from `jwks`; resolves to the payload or rejects. */
export async function verifyWithJwks (token: string, jwks: PublicJwk[]): Promise<Record<string, unknown>> {
  const verifier = createVerifier({
    algorithms: ['RS256'],
    key: async (decoded: { header: { kid?: string } }) => {
      const jwk = jwks.find(k => k.kid === decoded.header.kid)
      if (jwk === undefined) throw new Error(`no published key ${decoded.header.kid}`)
      return jwkToPem(jwk)
    }
  })
  return await verifier(token) as Record<string, unknown>
}

export function fakeClock (start = 1_800_000_000): { now: () => number, advance: (seconds: number) => void } {
  let time = start
  return { now: () => time, advance: (seconds) => { time += seconds } }
}
