// Development envelope: one AES-256 key in <dataDir>/keys/cipher.key (0600), generated on first start
// and reused, so values sealed before a restart still open.
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Cipher } from '../ports/cipher.ts'
import { SealedValueError } from '../ports/cipher.ts'
import { createPrivateFile, ensurePrivateDir, readPrivateFile } from './private-files.ts'
import { KEY_BYTES, openWith, parseSealed, sealWith } from './sealed-format.ts'

const VERSION = 'v1'
const KEY_FILE = 'cipher.key'

export class LocalCipher implements Cipher {
  /** Short key fingerprint carried in every sealed value, so a value from another key fails clearly. */
  readonly kid: string
  readonly #key: Buffer

  constructor (key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new TypeError(`local cipher key must be ${KEY_BYTES} bytes`)
    this.#key = Buffer.from(key)
    this.kid = createHash('sha256').update('gatehouse local cipher key\0').update(this.#key).digest().subarray(0, 12).toString('base64url')
  }

  /** Loads `<dataDir>/keys/cipher.key`, creating it on first start. */
  static async open (dataDir: string): Promise<LocalCipher> {
    const dir = join(dataDir, 'keys')
    const path = join(dir, KEY_FILE)
    await ensurePrivateDir(dir)
    let key = await readPrivateFile(path)
    if (key === undefined) {
      await createPrivateFile(path, randomBytes(KEY_BYTES))
      key = await readPrivateFile(path) // whoever created it first, this is the key everyone uses
    }
    if (key === undefined || key.length !== KEY_BYTES) throw new Error(`${path}: expected ${KEY_BYTES} bytes`)
    return new LocalCipher(key)
  }

  async seal (plaintext: string, context: string): Promise<string> {
    return sealWith(this.#key, VERSION, this.kid, plaintext, context)
  }

  async open (sealed: string, context: string): Promise<string> {
    const parts = parseSealed(sealed, VERSION)
    if (parts.keyRef !== this.kid) throw new SealedValueError(`sealed with another local key (${parts.keyRef})`)
    return openWith(this.#key, parts, context)
  }
}
