// Development signing keys: RSA-2048 PEM files under <dataDir>/keys/, generated on first start and
// reused after a restart, so tokens issued before a restart still verify. A manifest lists the keys
// newest first; the newest signs, the others stay published until every token they signed expired.
// One process owns rotation: other processes sharing the directory see a rotation on their next open().
import { createPrivateKey, generateKeyPair, sign, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SYSTEM_CLOCK, type Clock } from '../ports/clock.ts'
import type { KeySet, PublicJwk, Signer } from '../ports/keys.ts'
import { rsaPublicJwk } from './jwk.ts'
import { createPrivateFile, ensurePrivateDir, readPrivateFile, removeFile, replacePrivateFile } from './private-files.ts'

const generateKeyPairAsync = promisify(generateKeyPair)
const signAsync = promisify(sign)

export const RSA_MODULUS_BITS = 2048
const MANIFEST = 'signing-keys.json'

export interface LocalKeySetOptions {
  dataDir: string
  clock?: Clock
}

interface ManifestEntry {
  kid: string
  /** Epoch seconds; also the moment the next older key stopped signing. */
  createdAt: number
}

interface LoadedKey {
  entry: ManifestEntry
  signer: LocalSigner
  jwk: PublicJwk
}

class LocalSigner implements Signer {
  readonly kid: string
  readonly #key: KeyObject

  constructor (kid: string, key: KeyObject) {
    this.kid = kid
    this.#key = key
  }

  async sign (data: Uint8Array): Promise<Uint8Array> {
    // The callback form runs on the libuv pool instead of blocking the event loop for ~1 ms.
    return await signAsync('sha256', data, this.#key)
  }
}

export class LocalKeySet implements KeySet {
  readonly #dir: string
  readonly #clock: Clock
  /** Newest (current) first; never empty. */
  #keys: LoadedKey[]
  /** Rotations and retirements run one at a time, so neither loses the other's manifest update. */
  #pending: Promise<unknown> = Promise.resolve()

  private constructor (dir: string, clock: Clock, keys: LoadedKey[]) {
    this.#dir = dir
    this.#clock = clock
    this.#keys = keys
  }

  /** Loads the keys under `<dataDir>/keys/`, creating the first one if there is none. */
  static async open (options: LocalKeySetOptions): Promise<LocalKeySet> {
    const dir = join(options.dataDir, 'keys')
    const clock = options.clock ?? SYSTEM_CLOCK
    await ensurePrivateDir(dir)
    let entries = await readManifest(dir)
    if (entries === undefined) {
      const fresh = await newKey(dir, clock)
      // Two processes starting at once on an empty directory: the first manifest written wins.
      if (await createPrivateFile(join(dir, MANIFEST), serialize([fresh.entry]))) {
        return new LocalKeySet(dir, clock, [fresh])
      }
      await removeFile(pemPath(dir, fresh.entry.kid))
      entries = await readManifest(dir)
      if (entries === undefined) throw new Error(`${join(dir, MANIFEST)} vanished while starting`)
    }
    const keys = await Promise.all(entries.map(entry => loadKey(dir, entry)))
    return new LocalKeySet(dir, clock, keys)
  }

  get current (): Signer {
    return this.#keys[0]!.signer
  }

  async publicKeys (): Promise<PublicJwk[]> {
    return this.#keys.map(k => ({ ...k.jwk }))
  }

  /** Makes a new current key; the previous ones stay published for verification. */
  rotate (): Promise<Signer> {
    return this.#serially(() => this.#rotate())
  }

  /**
   * Removes previous keys that stopped signing at least `olderThanSeconds` ago, and returns their kids.
   * Pass at least the access token lifetime plus the clock skew: a key must outlive every token it signed.
   */
  retirePrevious (olderThanSeconds: number): Promise<string[]> {
    return this.#serially(() => this.#retirePrevious(olderThanSeconds))
  }

  #serially<T> (task: () => Promise<T>): Promise<T> {
    const run = this.#pending.then(task, task)
    this.#pending = run.catch(() => undefined)
    return run
  }

  async #rotate (): Promise<Signer> {
    const fresh = await newKey(this.#dir, this.#clock)
    const keys = [fresh, ...this.#keys]
    await replacePrivateFile(join(this.#dir, MANIFEST), serialize(keys.map(k => k.entry)))
    this.#keys = keys
    return fresh.signer
  }

  async #retirePrevious (olderThanSeconds: number): Promise<string[]> {
    const now = this.#clock.now()
    // keys[i] stopped signing when keys[i - 1] was created.
    const cut = this.#keys.findIndex((_, i) => i > 0 && now - this.#keys[i - 1]!.entry.createdAt >= olderThanSeconds)
    if (cut === -1) return []
    const kept = this.#keys.slice(0, cut)
    const retired = this.#keys.slice(cut)
    await replacePrivateFile(join(this.#dir, MANIFEST), serialize(kept.map(k => k.entry)))
    this.#keys = kept
    for (const k of retired) await removeFile(pemPath(this.#dir, k.entry.kid))
    return retired.map(k => k.entry.kid)
  }
}

function pemPath (dir: string, kid: string): string {
  return join(dir, `signing-${kid}.pem`)
}

function serialize (entries: ManifestEntry[]): string {
  return JSON.stringify({ keys: entries }, null, 2) + '\n'
}

async function readManifest (dir: string): Promise<ManifestEntry[] | undefined> {
  const path = join(dir, MANIFEST)
  const raw = await readPrivateFile(path)
  if (raw === undefined) return undefined
  const parsed = JSON.parse(raw.toString('utf8')) as { keys?: unknown }
  const keys = parsed.keys
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every(isEntry)) throw new Error(`${path}: not a signing key manifest`)
  return keys
}

function isEntry (value: unknown): value is ManifestEntry {
  const v = value as ManifestEntry
  return typeof v === 'object' && v !== null && typeof v.kid === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v.kid) && Number.isInteger(v.createdAt)
}

async function newKey (dir: string, clock: Clock): Promise<LoadedKey> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: RSA_MODULUS_BITS, publicExponent: 0x10001 })
  const jwk = rsaPublicJwk(privateKey)
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' })
  if (!await createPrivateFile(pemPath(dir, jwk.kid), pem)) throw new Error(`signing key ${jwk.kid} already exists`)
  return { entry: { kid: jwk.kid, createdAt: clock.now() }, signer: new LocalSigner(jwk.kid, privateKey), jwk }
}

async function loadKey (dir: string, entry: ManifestEntry): Promise<LoadedKey> {
  const path = pemPath(dir, entry.kid)
  const pem = await readPrivateFile(path)
  if (pem === undefined) throw new Error(`${path}: listed in ${MANIFEST} but missing`)
  const key = createPrivateKey(pem)
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MODULUS_BITS) throw new Error(`${path}: not an RSA key of at least ${RSA_MODULUS_BITS} bits`)
  const jwk = rsaPublicJwk(key)
  // The file name is the only link between manifest and key; a swapped file must not sign under the wrong kid.
  if (jwk.kid !== entry.kid) throw new Error(`${path}: key thumbprint ${jwk.kid} does not match its name`)
  return { entry, signer: new LocalSigner(jwk.kid, key), jwk }
}
