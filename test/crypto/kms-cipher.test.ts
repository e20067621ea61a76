// KmsCipher (envelope encryption) against a real AWS emulator (moto's KMS, test/support/aws-emulator.ts):
// GenerateDataKey and Decrypt with the EncryptionContext, through the real SDK client. A loopback proxy in
// front of moto (test/support/aws-proxy.ts) counts requests per operation (the data-key cache tests) and shows
// the KeyId a Decrypt names; it injects the faults moto cannot produce: throttling, a disabled key (moto 5.2.1
// keeps using a disabled key), an internal error, and IncorrectKeyException (for a value sealed under another
// key moto answers AccessDeniedException where AWS answers IncorrectKeyException). Skipped, and counted as
// skipped, when moto is not installed.
import t from 'tap'
import { CreateKeyCommand, DecryptCommand, type KMSClient } from '@aws-sdk/client-kms'
import { KeyServiceError, SealedValueError } from '../../src/ports/cipher.ts'
import { KmsCipher } from '../../src/crypto/kms-cipher.ts'
import { LocalCipher } from '../../src/crypto/local-cipher.ts'
import { emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'
import type { KmsApi } from '../../src/crypto/kms-keys.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'
import { kmsClientAt } from '../support/kms-client.ts'
import { FIELD, flipBit } from './tamper.ts'

const unavailable = await emulatorUnavailable({ moto: true })

if (unavailable !== undefined) {
  t.test(`KmsCipher against the AWS emulator's KMS (skipped, not passed: ${unavailable})`, { skip: unavailable }, () => {})
} else {
  const aws = await startAwsEmulator({ moto: true })
  const proxy = await startAwsProxy(aws.endpoint)
  t.teardown(async () => { await proxy.close(); await aws.stop() })
  /** Direct to moto, not counted: creating keys, checking a data key at KMS. */
  const admin = aws.kms()
  const createEncryptionKey = async (): Promise<{ keyId: string, arn: string }> => {
    const { KeyMetadata } = await admin.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }))
    return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! }
  }
  /** gatehouse's client: through the counting proxy. */
  const client = (): KMSClient | KmsApi => kmsClientAt(proxy.endpoint, aws.region)
  const key = await createEncryptionKey()
  const TOKENS = JSON.stringify({ accessToken: 'upstream-access', refreshToken: 'upstream-refresh' })

  const count = (op: string) => proxy.calls[op] ?? 0
  /** A cipher as a fresh process would have it: nothing cached. */
  const fresh = (options: Partial<ConstructorParameters<typeof KmsCipher>[0]> = {}) => new KmsCipher({ client: client(), keyId: key.arn, ...options })

  t.test('seal then open round-trips through KMS envelope encryption', async t => {
    const sealed = await fresh().seal(TOKENS, 'grant:g1')
    t.match(sealed, /^k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
    t.notMatch(sealed, /upstream/)
    t.equal(await fresh().open(sealed, 'grant:g1'), TOKENS, 'another process opens it')
    t.equal(await fresh().open(await fresh().seal('', 'grant:g1'), 'grant:g1'), '')
  })

  t.test('the data key is bound to the context at KMS: another context is refused by KMS Decrypt', async t => {
    const sealed = await fresh().seal(TOKENS, 'grant:g1')
    const before = count('Decrypt')
    const err = await fresh().open(sealed, 'grant:g2').catch((e: unknown) => e)
    t.type(err, SealedValueError)
    t.equal((err as Error & { cause: Error }).cause.name, 'InvalidCiphertextException')
    t.equal(count('Decrypt') - before, 1, 'the refusal came from KMS')
    // The same encrypted data key with the right context still works at KMS.
    const edk = Buffer.from(sealed.split('.')[FIELD.keyRef]!, 'base64url')
    await t.rejects(admin.send(new DecryptCommand({ CiphertextBlob: edk, EncryptionContext: { 'gatehouse:context': 'grant:g2' } })), { name: 'InvalidCiphertextException' })
    const out = await admin.send(new DecryptCommand({ CiphertextBlob: edk, EncryptionContext: { 'gatehouse:context': 'grant:g1' } }))
    t.equal(out.Plaintext?.length, 32)
  })

  t.test('another context is refused even when the data key is cached (AAD)', async t => {
    const cipher = fresh()
    const sealed = await cipher.seal(TOKENS, 'grant:g1')
    t.equal(await cipher.open(sealed, 'grant:g1'), TOKENS)
    await t.rejects(cipher.open(sealed, 'grant:g2'), SealedValueError)
  })

  t.test('tampering with the encrypted data key, iv, ciphertext or tag fails closed', async t => {
    const sealed = await fresh().seal(TOKENS, 'grant:g1')
    // moto's data-key blob starts with the 36-character key id, and a change there makes moto answer
    // AccessDeniedException (no such key) where AWS, whose blobs are opaque, answers InvalidCiphertextException:
    // the encrypted data key is tampered past that prefix (byte 60: moto's encrypted key material).
    const at = (name: string) => name === 'keyRef' ? 60 : 20
    for (const [name, index] of Object.entries(FIELD)) {
      if (name === 'version') continue
      const warm = fresh()
      t.equal(await warm.open(sealed, 'grant:g1'), TOKENS, 'the untampered value opens')
      await t.rejects(fresh().open(flipBit(sealed, index, at(name)), 'grant:g1'), SealedValueError, `${name}, cold`)
      await t.rejects(warm.open(flipBit(sealed, index, at(name)), 'grant:g1'), SealedValueError, `${name}, with the data key cached`)
    }
    const before = count('Decrypt')
    await t.rejects(fresh().open(flipBit(sealed, FIELD.keyRef, 60), 'grant:g1'), { name: 'SealedValueError', cause: { name: 'InvalidCiphertextException' } })
    t.equal(count('Decrypt') - before, 1, 'a tampered data key is refused by KMS')
  })

  t.test('a value from the local cipher, or garbage, is refused without calling KMS', async t => {
    const before = count('Decrypt')
    const local = await LocalCipher.open(t.testdir())
    await t.rejects(fresh().open(await local.seal(TOKENS, 'c'), 'c'), SealedValueError)
    await t.rejects(fresh().open('not sealed', 'c'), SealedValueError)
    t.equal(count('Decrypt'), before)
  })

  t.test('the data key cache cuts KMS calls: one Decrypt for many opens, one GenerateDataKey for many seals of a context', async t => {
    const sealed = await fresh().seal(TOKENS, 'grant:g1')

    let before = count('Decrypt')
    const cached = fresh()
    for (let i = 0; i < 50; i++) t.equal(await cached.open(sealed, 'grant:g1'), TOKENS)
    t.equal(count('Decrypt') - before, 1, 'cached: 50 opens, 1 Decrypt')

    before = count('Decrypt')
    const uncached = fresh({ cache: { maxEntries: 0 } })
    for (let i = 0; i < 50; i++) await uncached.open(sealed, 'grant:g1')
    t.equal(count('Decrypt') - before, 50, 'uncached: 50 opens, 50 Decrypts')

    before = count('Decrypt')
    await Promise.all(Array.from({ length: 20 }, () => fresh().open(sealed, 'grant:g1')))
    t.equal(count('Decrypt') - before, 20, 'separate processes each decrypt once')
    before = count('Decrypt')
    const shared = fresh()
    await Promise.all(Array.from({ length: 20 }, () => shared.open(sealed, 'grant:g1')))
    t.equal(count('Decrypt') - before, 1, 'concurrent opens in one process share one Decrypt')

    const generated = count('GenerateDataKey')
    before = count('Decrypt')
    const sealer = fresh()
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => sealer.seal(`v${i}`, 'grant:g3')))
    t.equal(count('GenerateDataKey') - generated, 1, '10 seals of one context, 1 GenerateDataKey')
    for (const [i, v] of values.entries()) t.equal(await sealer.open(v, 'grant:g3'), `v${i}`)
    t.equal(count('Decrypt') - before, 0, 'opening what this process just sealed needs no Decrypt')
    await sealer.seal('x', 'grant:g4')
    t.equal(count('GenerateDataKey') - generated, 2, 'another context gets its own data key')
  })

  t.test('cached data keys expire, and a data key seals a bounded number of values', async t => {
    let now = 0
    const cipher = fresh({ cache: { ttlMs: 1000, maxSealsPerKey: 3, now: () => now } })
    const generated = count('GenerateDataKey')
    for (let i = 0; i < 7; i++) await cipher.seal('x', 'grant:g1')
    t.equal(count('GenerateDataKey') - generated, 3, '7 seals at ≤ 3 per key: 3 data keys')
    const sealed = await fresh().seal(TOKENS, 'grant:g9')
    const before = count('Decrypt')
    await cipher.open(sealed, 'grant:g9')
    now = 999
    await cipher.open(sealed, 'grant:g9')
    t.equal(count('Decrypt') - before, 1, 'within the TTL: cached')
    now = 1000
    await cipher.open(sealed, 'grant:g9')
    t.equal(count('Decrypt') - before, 2, 'after the TTL: KMS again')
  })

  t.test('the cache is bounded (least recently used goes first)', async t => {
    const cipher = fresh({ cache: { maxEntries: 2 } })
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(ctx => fresh().seal(TOKENS, ctx)))
    const before = count('Decrypt')
    await cipher.open(a!, 'a')
    await cipher.open(b!, 'b')
    await cipher.open(a!, 'a') // a is now most recently used
    await cipher.open(c!, 'c') // evicts b
    t.equal(count('Decrypt') - before, 3)
    await cipher.open(a!, 'a')
    t.equal(count('Decrypt') - before, 3, 'a stayed')
    await cipher.open(b!, 'b')
    t.equal(count('Decrypt') - before, 4, 'b was evicted')
  })

  t.test('a KMS refusal or outage is a KeyServiceError, not a bad value, and is not cached', async t => {
    const other = await createEncryptionKey()
    const cipher = new KmsCipher({ client: client(), keyId: other.keyId })
    const sealed = await cipher.seal(TOKENS, 'grant:g1')
    // Injected by the proxy: moto keeps serving a disabled key, and never throttles.
    proxy.fail('Decrypt', { type: 'DisabledException' })
    await t.rejects(fresh({ keyId: other.keyId }).open(sealed, 'grant:g1'), { name: 'KeyServiceError', cause: { name: 'DisabledException' } })
    proxy.fail('Decrypt', { type: 'ThrottlingException' })
    await t.rejects(fresh({ keyId: other.keyId }).open(sealed, 'grant:g1'), { name: 'KeyServiceError', cause: { name: 'ThrottlingException' } })
    proxy.fail('GenerateDataKey', { type: 'KMSInternalException', status: 500 })
    await t.rejects(cipher.seal(TOKENS, 'grant:new'), { name: 'KeyServiceError', cause: { name: 'KMSInternalException' } })
    const before = count('GenerateDataKey')
    proxy.fail('GenerateDataKey', { type: 'ThrottlingException' })
    await t.rejects(cipher.seal(TOKENS, 'grant:new'), KeyServiceError)
    t.equal(count('GenerateDataKey') - before, 1, 'the failure was not cached: KMS was asked again')
    t.equal(await cipher.open(await cipher.seal(TOKENS, 'grant:new'), 'grant:new'), TOKENS, 'once KMS answers, sealing works')
    const opener = fresh({ keyId: other.keyId })
    proxy.fail('Decrypt', { type: 'ThrottlingException' })
    await t.rejects(opener.open(sealed, 'grant:g1'), KeyServiceError)
    t.equal(await opener.open(sealed, 'grant:g1'), TOKENS, 'a failed Decrypt is not cached either')
  })

  t.test('a value sealed under another KMS key is refused (Decrypt is pinned to the configured key)', async t => {
    const other = await createEncryptionKey()
    const sealed = await new KmsCipher({ client: client(), keyId: other.keyId }).seal(TOKENS, 'c')
    const before = proxy.requests.length
    // moto refuses it (AccessDeniedException, a KeyServiceError here); AWS answers IncorrectKeyException.
    await t.rejects(fresh().open(sealed, 'c'), { cause: { name: 'AccessDeniedException' } })
    const decrypts = proxy.requests.slice(before).filter(r => r.operation === 'Decrypt')
    t.equal(decrypts.length, 1)
    t.equal(decrypts[0]?.body.KeyId, key.arn, 'Decrypt names the configured key, so KMS refuses a data key of another key')
    // AWS's answer, injected because moto gives another code: a value that will never open here, not an outage.
    proxy.fail('Decrypt', { type: 'IncorrectKeyException' })
    await t.rejects(fresh().open(sealed, 'c'), { name: 'SealedValueError', cause: { name: 'IncorrectKeyException' } })
  })

  t.test('measured: what the cache saves per open', async t => {
    // Loopback to moto is the floor; real KMS Decrypt adds ~5–20 ms in-region and counts against
    // the account's shared cryptographic request quota, so the real saving is larger than measured here.
    const sealed = await fresh().seal(TOKENS, 'grant:bench')
    const time = async (cipher: KmsCipher, n: number) => {
      const start = process.hrtime.bigint()
      for (let i = 0; i < n; i++) await cipher.open(sealed, 'grant:bench')
      return Number(process.hrtime.bigint() - start) / 1e6 / n
    }
    const uncached = await time(fresh({ cache: { maxEntries: 0 } }), 50)
    const cached = await time(fresh(), 50)
    t.comment(`open: ${uncached.toFixed(3)} ms/op uncached (loopback moto), ${cached.toFixed(3)} ms/op cached`)
    t.ok(cached < uncached, 'cached opens are faster even against a loopback KMS')
  })
}
