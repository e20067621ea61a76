// Signing keys held by AWS KMS (RSA_2048, SIGN_VERIFY): the private key never leaves KMS.
// The public keys either come with the deployment (KMS_SIGNING_PUBLIC_KEYS, from Terraform's
// aws_kms_public_key: no KMS call and no KMS client at a cold start) or are fetched once at start
// (KMS public keys never change), which also fails the start-up fast when a key id is wrong, disabled,
// or not an RSA signing key. The KMS client itself is loaded on the first signature.
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto'
import type { GetPublicKeyCommandOutput, KMSClient, SignCommandOutput } from '@aws-sdk/client-kms'
import type { KeySet, PublicJwk, Signer } from '../ports/keys.ts'
import { KeyServiceError } from '../ports/cipher.ts'
import { rsaPublicJwk } from './jwk.ts'

const ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256'

/**
 * The KMS operations the adapters send, by name with the API's input and output (blobs as Uint8Array): the
 * JSON client (src/aws/json-client.ts, in Lambda: no SDK client to load) or an SDK client.
 */
export interface KmsApi {
  send<O>(operation: 'Sign' | 'GetPublicKey' | 'GenerateDataKey' | 'Decrypt', input: object): Promise<O>
}

/** A client, or how to get one when it is first needed. */
export type KmsClientSource = KMSClient | KmsApi | (() => Promise<KMSClient | KmsApi>)

/** The source's client as a KmsApi. Whoever holds an SDK client has loaded the SDK, so its commands cost nothing more. */
export async function apiOf (source: KmsClientSource): Promise<KmsApi> {
  const client = typeof source === 'function' ? await source() : source
  if (!('middlewareStack' in client)) return client
  return {
    async send<O>(operation: string, input: object): Promise<O> {
      const commands = await import('@aws-sdk/client-kms') as unknown as Record<string, new (input: object) => Parameters<KMSClient['send']>[0]>
      return await client.send(new (commands[`${operation}Command`] as new (input: object) => Parameters<KMSClient['send']>[0])(input)) as O
    }
  }
}

export interface KmsKeySetOptions {
  client: KmsClientSource
  /** Key id, ARN or alias of the key that signs new tokens. */
  currentKeyId: string
  /** Keys rotated out but still published until the tokens they signed expire. */
  previousKeyIds?: string[]
}

/** Public keys delivered with the deployment: key id (as configured) → DER SubjectPublicKeyInfo. */
export type DeliveredPublicKeys = ReadonlyMap<string, Uint8Array>

class KmsSigner implements Signer {
  readonly kid: string
  readonly #client: KmsClientSource
  readonly #keyArn: string
  /** Set when the public key came with the deployment: KMS's first signature is checked against it. */
  #unconfirmed: KeyObject | undefined

  constructor (kid: string, client: KmsClientSource, keyArn: string, delivered?: KeyObject) {
    this.kid = kid
    this.#client = client
    this.#keyArn = keyArn
    this.#unconfirmed = delivered
  }

  async sign (data: Uint8Array): Promise<Uint8Array> {
    // Sending the digest keeps every request at 32 bytes, far below the 4 KB RAW message limit.
    const digest = createHash('sha256').update(data).digest()
    let out
    try {
      out = await (await apiOf(this.#client)).send<SignCommandOutput>('Sign', { KeyId: this.#keyArn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: ALGORITHM })
    } catch (err) {
      throw new KeyServiceError(`KMS Sign failed for ${this.#keyArn}`, { cause: err })
    }
    if (out.Signature === undefined) throw new KeyServiceError(`KMS Sign returned no signature for ${this.#keyArn}`)
    // A delivered public key that is not this KMS key's would make every token fail verification: the first
    // signature proves the pair once per process, and a mismatch issues nothing.
    if (this.#unconfirmed !== undefined) {
      if (!verifySignature('RSA-SHA256', data, this.#unconfirmed, out.Signature)) throw new KeyServiceError(`KMS_SIGNING_PUBLIC_KEYS: the public key given for ${this.#keyArn} does not verify its KMS signatures`)
      this.#unconfirmed = undefined
    }
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

  /**
   * With `delivered`, the public keys of every configured key id come from the deployment and nothing is
   * asked of KMS until the first signature; without, GetPublicKey runs for each at start.
   */
  static async open (options: KmsKeySetOptions & { delivered?: DeliveredPublicKeys }): Promise<KmsKeySet> {
    const ids = [options.currentKeyId, ...(options.previousKeyIds ?? []).filter(id => id !== options.currentKeyId)]
    const { delivered } = options
    if (delivered !== undefined) {
      const keys = ids.map(id => {
        const der = delivered.get(id)
        if (der === undefined) throw new KeyServiceError(`KMS_SIGNING_PUBLIC_KEYS has no public key for ${id}`)
        return { arn: id, key: createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }) }
      })
      const jwks = keys.map(k => rsaPublicJwk(k.key))
      const signer = new KmsSigner(jwks[0]!.kid, options.client, keys[0]!.arn, keys[0]!.key)
      return new KmsKeySet(signer, [...new Map(jwks.map(j => [j.kid, j])).values()])
    }
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

async function fetchPublicKey (client: KmsClientSource, keyId: string): Promise<{ arn: string, jwk: PublicJwk }> {
  let out
  try {
    out = await (await apiOf(client)).send<GetPublicKeyCommandOutput>('GetPublicKey', { KeyId: keyId })
  } catch (err) {
    throw new KeyServiceError(`KMS GetPublicKey failed for ${keyId}`, { cause: err })
  }
  if (out.KeyUsage !== 'SIGN_VERIFY' || !(out.SigningAlgorithms ?? []).includes(ALGORITHM) || out.PublicKey === undefined || out.KeyId === undefined) {
    throw new KeyServiceError(`KMS key ${keyId} is not an RSA signing key supporting ${ALGORITHM} (usage ${out.KeyUsage}, spec ${out.KeySpec})`)
  }
  const jwk = rsaPublicJwk(createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' }))
  return { arn: out.KeyId, jwk }
}
