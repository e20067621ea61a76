// Signing keys: a local RSA key in development, an AWS KMS asymmetric key on AWS (src/crypto).

export interface PublicJwk {
  kty: 'RSA'
  n: string
  e: string
  kid: string
  alg: 'RS256'
  use: 'sig'
}

/** Signs access tokens. Local RSA key in development, AWS KMS asymmetric key on AWS. */
export interface Signer {
  readonly kid: string
  /** RSASSA-PKCS1-v1_5 with SHA-256 over `data`. */
  sign (data: Uint8Array): Promise<Uint8Array>
}

export interface KeySet {
  /** The key that signs new tokens. */
  current: Signer
  /** Current first, then the previous keys still needed to verify live tokens. */
  publicKeys (): Promise<PublicJwk[]>
}
