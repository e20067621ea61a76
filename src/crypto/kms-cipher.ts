// AWS envelope encryption: KMS generates a per-context AES-256 data key, the value is sealed locally
// with it, and the KMS-encrypted data key travels inside the sealed value. KMS binds the data key to
// an EncryptionContext that includes the caller's context, so only a Decrypt naming the same context
// (visible in CloudTrail; contexts are ids, never secrets) gets the key back.
// Format: `k1.<encrypted data key>.<iv>.<ciphertext>.<tag>`, see sealed-format.ts.
import type { DecryptCommandOutput, GenerateDataKeyCommandOutput } from '@aws-sdk/client-kms'
import { apiOf, type KmsClientSource } from './kms-keys.ts'
import { DataKeyCache } from './data-key-cache.ts'
import { KeyServiceError, SealedValueError, type Cipher } from '../ports/cipher.ts'
import { KEY_BYTES, openWith, parseSealed, sealWith } from './sealed-format.ts'

const VERSION = 'k1'
const CONTEXT_KEY = 'gatehouse:context'
/** KMS errors that mean "this ciphertext will never decrypt here", as opposed to an outage. */
const PERMANENT = new Set(['InvalidCiphertextException', 'IncorrectKeyException'])

export interface KmsCipherOptions {
  /** A client, or how to get one on the first seal or open (a cold start that seals nothing loads no KMS client). */
  client: KmsClientSource
  /** Symmetric ENCRYPT_DECRYPT key id, ARN or alias. Decrypt is pinned to it. */
  keyId: string
  /**
   * Data keys are cached briefly so a warm process doesn't pay a KMS round trip (and request quota) for
   * every open of the same grant. Defaults: 1000 entries, 5 minutes, a data key seals ≤ 1000 values.
   */
  cache?: { maxEntries?: number, ttlMs?: number, maxSealsPerKey?: number, now?: () => number }
}

interface DataKey {
  key: Uint8Array
  /** base64url of the KMS CiphertextBlob. */
  encrypted: string
}

export class KmsCipher implements Cipher {
  readonly #client: KmsClientSource
  readonly #keyId: string
  readonly #cache: DataKeyCache<DataKey>
  readonly #maxSeals: number

  constructor (options: KmsCipherOptions) {
    this.#client = options.client
    this.#keyId = options.keyId
    this.#cache = new DataKeyCache({ maxEntries: options.cache?.maxEntries ?? 1000, ttlMs: options.cache?.ttlMs ?? 300_000, now: options.cache?.now })
    this.#maxSeals = options.cache?.maxSealsPerKey ?? 1000
  }

  async seal (plaintext: string, context: string): Promise<string> {
    const dataKey = await this.#cache.get(`seal\0${context}`, () => this.#generate(context), this.#maxSeals)
    this.#cache.put(`open\0${dataKey.encrypted}\0${context}`, dataKey)
    return sealWith(dataKey.key, VERSION, dataKey.encrypted, plaintext, context)
  }

  async open (sealed: string, context: string): Promise<string> {
    const parts = parseSealed(sealed, VERSION)
    // The cache key includes the context: a value presented under another context always goes to KMS, which refuses.
    const dataKey = await this.#cache.get(`open\0${parts.keyRef}\0${context}`, () => this.#decrypt(parts.keyRef, context))
    return openWith(dataKey.key, parts, context)
  }

  async #generate (context: string): Promise<DataKey> {
    let out
    try {
      out = await (await apiOf(this.#client)).send<GenerateDataKeyCommandOutput>('GenerateDataKey', { KeyId: this.#keyId, KeySpec: 'AES_256', EncryptionContext: { [CONTEXT_KEY]: context } })
    } catch (err) {
      throw new KeyServiceError(`KMS GenerateDataKey failed for ${this.#keyId}`, { cause: err })
    }
    if (out.Plaintext?.length !== KEY_BYTES || out.CiphertextBlob === undefined) throw new KeyServiceError('KMS GenerateDataKey returned no usable key')
    return { key: out.Plaintext, encrypted: Buffer.from(out.CiphertextBlob).toString('base64url') }
  }

  async #decrypt (encrypted: string, context: string): Promise<DataKey> {
    let out
    try {
      out = await (await apiOf(this.#client)).send<DecryptCommandOutput>('Decrypt', { KeyId: this.#keyId, CiphertextBlob: Buffer.from(encrypted, 'base64url'), EncryptionContext: { [CONTEXT_KEY]: context } })
    } catch (err) {
      const name = (err as { name?: string }).name ?? ''
      if (PERMANENT.has(name)) throw new SealedValueError(`KMS refused the data key (${name})`, { cause: err })
      throw new KeyServiceError(`KMS Decrypt failed for ${this.#keyId}`, { cause: err })
    }
    if (out.Plaintext?.length !== KEY_BYTES) throw new SealedValueError('KMS returned a data key of the wrong size')
    return { key: out.Plaintext, encrypted }
  }
}
