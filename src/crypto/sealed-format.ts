// The sealed-value format shared by both ciphers: `<version>.<keyref>.<iv>.<ciphertext>.<tag>`, every
// field base64url. AES-256-GCM with a random 96-bit IV; the additional authenticated data is the
// header (`<version>.<keyref>.`) followed by the caller's context, so moving a value to another
// record, or editing any field, fails authentication.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { SealedValueError } from '../ports/cipher.ts'

const IV_BYTES = 12
const TAG_BYTES = 16
export const KEY_BYTES = 32
const B64URL = /^[A-Za-z0-9_-]*$/

export interface SealedParts {
  version: string
  keyRef: string
  iv: Buffer
  ciphertext: Buffer
  tag: Buffer
}

export function sealWith (key: Uint8Array, version: string, keyRef: string, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad(version, keyRef, context))
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return [version, keyRef, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.')
}

/** Splits a sealed value; throws SealedValueError unless every field is present and well formed. */
export function parseSealed (sealed: string, version: string): SealedParts {
  const fields = sealed.split('.')
  if (fields.length !== 5 || fields[0] !== version) throw new SealedValueError(`not a ${version} sealed value`)
  const [keyRef, iv, ciphertext, tag] = fields.slice(1).map(strictBase64url) as [Buffer, Buffer, Buffer, Buffer]
  if (keyRef.length === 0 || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealedValueError('sealed value has a malformed field')
  return { version, keyRef: fields[1]!, iv, ciphertext, tag }
}

export function openWith (key: Uint8Array, parts: SealedParts, context: string): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(aad(parts.version, parts.keyRef, context))
    decipher.setAuthTag(parts.tag)
    // final() verifies the tag; nothing decrypted is returned before it has.
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8')
  } catch (err) {
    throw new SealedValueError('sealed value failed authentication (tampered, wrong key or wrong context)', { cause: err })
  }
}

function aad (version: string, keyRef: string, context: string): Buffer {
  return Buffer.from(`${version}.${keyRef}.${context}`, 'utf8')
}

function strictBase64url (field: string): Buffer {
  // Buffer.from ignores junk and unused trailing bits; a re-encoding check makes every character count.
  const bytes = Buffer.from(field, 'base64url')
  if (!B64URL.test(field) || bytes.toString('base64url') !== field) throw new SealedValueError('sealed value has a field that is not canonical base64url')
  return bytes
}
