import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { SealedValueError } from '../../src/ports/cipher.ts'
import { LocalCipher } from '../../src/crypto/local-cipher.ts'
import { FIELD, flipBit } from './tamper.ts'

const TOKENS = JSON.stringify({ accessToken: 'eyJ…upstream', refreshToken: 'r-é-🔑', expiresAt: 1800000000 })

t.test('seal then open returns the plaintext (including empty and non-ASCII)', async t => {
  const cipher = await LocalCipher.open(t.testdir())
  for (const plaintext of [TOKENS, '', 'ü'.repeat(10_000)]) {
    t.equal(await cipher.open(await cipher.seal(plaintext, 'grant:g1'), 'grant:g1'), plaintext)
  }
})

t.test('the sealed value is v1.<kid>.<iv>.<ct>.<tag> with a fresh 96-bit IV each time', async t => {
  const cipher = await LocalCipher.open(t.testdir())
  const a = await cipher.seal(TOKENS, 'grant:g1')
  const b = await cipher.seal(TOKENS, 'grant:g1')
  t.match(a, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
  t.not(a, b, 'same plaintext, different ciphertext')
  t.not(a.split('.')[2], b.split('.')[2])
  t.notMatch(a, /upstream/)
})

t.test('opening under another context fails closed', async t => {
  const cipher = await LocalCipher.open(t.testdir())
  const sealed = await cipher.seal(TOKENS, 'grant:g1')
  await t.rejects(cipher.open(sealed, 'grant:g2'), SealedValueError)
  await t.rejects(cipher.open(sealed, ''), SealedValueError)
})

t.test('tampering with the iv, ciphertext, tag, key id or version fails closed', async t => {
  const cipher = await LocalCipher.open(t.testdir())
  const sealed = await cipher.seal(TOKENS, 'grant:g1')
  for (const [name, index] of Object.entries({ iv: FIELD.iv, ciphertext: FIELD.ciphertext, tag: FIELD.tag, kid: FIELD.keyRef })) {
    await t.rejects(cipher.open(flipBit(sealed, index), 'grant:g1'), SealedValueError, name)
  }
  await t.rejects(cipher.open(sealed.replace(/^v1\./, 'v2.'), 'grant:g1'), SealedValueError, 'version')
  await t.rejects(cipher.open(sealed.slice(0, -1) + (sealed.endsWith('A') ? 'B' : 'A'), 'grant:g1'), SealedValueError, 'last character of the tag')
  await t.rejects(cipher.open(sealed + '.x', 'grant:g1'), SealedValueError, 'extra field')
  await t.rejects(cipher.open(sealed.split('.').slice(0, 4).join('.'), 'grant:g1'), SealedValueError, 'missing tag')
  const fields = sealed.split('.')
  fields[FIELD.ciphertext] = fields[FIELD.ciphertext]!.slice(0, -2)
  await t.rejects(cipher.open(fields.join('.'), 'grant:g1'), SealedValueError, 'truncated ciphertext')
})

t.test('non-canonical base64url (unused trailing bits) is refused, so every character is authenticated', async t => {
  const cipher = await LocalCipher.open(t.testdir())
  const sealed = await cipher.seal(TOKENS, 'grant:g1')
  const fields = sealed.split('.')
  // A 16-byte tag is 22 characters; the last one carries 4 unused bits. Setting one leaves the bytes unchanged.
  const last = fields[FIELD.tag]!.at(-1)!
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  fields[FIELD.tag] = fields[FIELD.tag]!.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]
  t.not(fields.join('.'), sealed)
  t.same(Buffer.from(fields[FIELD.tag]!, 'base64url'), Buffer.from(sealed.split('.')[FIELD.tag]!, 'base64url'), 'decodes to the same tag bytes')
  await t.rejects(cipher.open(fields.join('.'), 'grant:g1'), SealedValueError)
})

t.test('the key is generated once (32 bytes, 0600) and reused after a restart', async t => {
  const dataDir = t.testdir()
  const sealed = await (await LocalCipher.open(dataDir)).seal(TOKENS, 'c')
  const path = join(dataDir, 'keys', 'cipher.key')
  t.equal((await stat(path)).mode & 0o777, 0o600)
  t.equal((await readFile(path)).length, 32)
  t.equal(await (await LocalCipher.open(dataDir)).open(sealed, 'c'), TOKENS)
})

t.test('a value sealed with another local key is refused', async t => {
  const sealed = await new LocalCipher(randomBytes(32)).seal(TOKENS, 'c')
  await t.rejects(new LocalCipher(randomBytes(32)).open(sealed, 'c'), /another local key/)
})

t.test('a key of the wrong size is refused', async t => {
  t.throws(() => new LocalCipher(randomBytes(16)), TypeError)
})
