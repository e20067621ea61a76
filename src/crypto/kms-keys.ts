// Signing keys held by AWS KMS (RSA_2048, SIGN_VERIFY): the private key never leaves KMS.
// The public keys are fetched once at start (KMS public keys never change), which also fails the
// start-up fast when a key id is wrong, disabled, or not an RSA signing key.
import { createHash, createPublicKey } from 'node:crypto'
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms'
import type { KeySet, PublicJwk, Signer } from '../ports/keys.ts'
import { KeyServiceError } from '../ports/cipher.ts'
import { rsaPublicJwk } from './jwk.ts'

const ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256'

export interface KmsKeySetOptions {
  client: KMSClient
  /** Key id, ARN or alias of the key that signs new tokens. */
  currentKeyId: string
  /** Keys rotated out but still published until the tokens they signed expire. */
  previousKeyIds?: string[]
}

class KmsSigner implements Signer {
  readonly kid: string
  readonly #client: KMSClient
  readonly #keyArn: string

  constructor (kid: string, client: KMSClient, keyArn: string) {
    this.kid = kid
    this.#client = client
    this.#keyArn = keyArn
  }

  async sign (data: Uint8Array): Promise<Uint8Array> {
    // Sending the digest keeps every request at 32 bytes, far below the 4 KB RAW message limit.
    const digest = createHash('sha256').update(data).digest()
    let out
    try {
      out = await this.#client.send(new SignCommand({ KeyId: this.#keyArn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: ALGORITHM }))
    } catch (err) {
      throw new KeyServiceError(`KMS Sign failed for ${this.#keyArn}`, { cause: err })
    }
    if (out.Signature === undefined) throw new KeyServiceError(`KMS Sign returned no signature for ${this.#keyArn}`)
    return out.Signature
  }
}

export class KmsKeySet implements KeySet {
  readonly current: Signer
  readonly #jwks: PublicJwk[]

  private constructor (current: Signer, jwks: PublicJwk[]) {
    this.current = current
    this.#jwks = jwks
  }

  static async open (options: KmsKeySetOptions): Promise<KmsKeySet> {
    const ids = [options.currentKeyId, ...(options.previousKeyIds ?? []).filter(id => id !== options.currentKeyId)]
    const keys = await Promise.all(ids.map(id => fetchPublicKey(options.client, id)))
    const current = keys[0]!
    // Sign with the ARN GetPublicKey resolved, not the configured id: if an alias is later re-pointed,
    // this process keeps signing with the key whose kid it publishes.
    const signer = new KmsSigner(current.jwk.kid, options.client, current.arn)
    // The same key listed twice (id and ARN, say) is published once.
    const jwks = [...new Map(keys.map(k => [k.jwk.kid, k.jwk])).values()]
    return new KmsKeySet(signer, jwks)
  }

  async publicKeys (): Promise<PublicJwk[]> {
    return this.#jwks.map(j => ({ ...j }))
  }
}

async function fetchPublicKey (client: KMSClient, keyId: string): Promise<{ arn: string, jwk: PublicJwk }> {
  let out
  try {
    out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }))
  } catch (err) {
    throw new KeyServiceError(`KMS GetPublicKey failed for ${keyId}`, { cause: err })
  }
  if (out.KeyUsage !== 'SIGN_VERIFY' || !(out.SigningAlgorithms ?? []).includes(ALGORITHM) || out.PublicKey === undefined || out.KeyId === undefined) {
    throw new KeyServiceError(`KMS key ${keyId} is not an RSA signing key supporting ${ALGORITHM} (usage ${out.KeyUsage}, spec ${out.KeySpec})`)
  }
  const jwk = rsaPublicJwk(createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' }))
  return { arn: out.KeyId, jwk }
}
