import t from 'tap'
import { chmod, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import { LocalKeySet } from '../../src/crypto/local-keys.ts'
import { fakeClock, signJwt, verifiesWithJwk, verifyWithJwks } from './jwt-helpers.ts'

const mode = async (path: string) => (await stat(path)).mode & 0o777

t.test('the current key signs RS256 that node crypto and fast-jwt verify against the published JWK', async t => {
  const keys = await LocalKeySet.open({ dataDir: t.testdir(), clock: fakeClock() })
  const [jwk] = await keys.publicKeys()
  t.equal(jwk?.kid, keys.current.kid, 'the published key is the current signer')
  t.equal(jwk?.alg, 'RS256')
  const data = Buffer.from('header.payload')
  const signature = await keys.current.sign(data)
  t.equal(signature.length, 256, 'RSA-2048 signature')
  t.ok(verifiesWithJwk(jwk!, data, signature))
  t.notOk(verifiesWithJwk(jwk!, Buffer.from('header.payloaX'), signature), 'another message does not verify')
  const token = await signJwt(keys.current, { sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 })
  t.equal((await verifyWithJwks(token, await keys.publicKeys())).sub, 'u1')
})

t.test('keys are generated once and reused after a restart', async t => {
  const dataDir = t.testdir()
  const first = await LocalKeySet.open({ dataDir })
  const token = await signJwt(first.current, { sub: 'before-restart' })
  const second = await LocalKeySet.open({ dataDir })
  t.equal(second.current.kid, first.current.kid)
  t.same(await second.publicKeys(), await first.publicKeys())
  t.equal((await verifyWithJwks(token, await second.publicKeys())).sub, 'before-restart', 'a token issued before the restart still verifies')
  t.equal((await readdir(join(dataDir, 'keys'))).filter(f => f.endsWith('.pem')).length, 1)
})

t.test('key files are 0600 and the key directory 0700', async t => {
  const dataDir = t.testdir()
  const keys = await LocalKeySet.open({ dataDir })
  t.equal(await mode(join(dataDir, 'keys')), 0o700)
  t.equal(await mode(join(dataDir, 'keys', `signing-${keys.current.kid}.pem`)), 0o600)
  t.equal(await mode(join(dataDir, 'keys', 'signing-keys.json')), 0o600)
  t.match(await readFile(join(dataDir, 'keys', `signing-${keys.current.kid}.pem`), 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
})

t.test('loosened permissions are tightened again on start', async t => {
  const dataDir = t.testdir()
  const keys = await LocalKeySet.open({ dataDir })
  const pem = join(dataDir, 'keys', `signing-${keys.current.kid}.pem`)
  await chmod(pem, 0o644)
  await chmod(join(dataDir, 'keys'), 0o755)
  await LocalKeySet.open({ dataDir })
  t.equal(await mode(pem), 0o600)
  t.equal(await mode(join(dataDir, 'keys')), 0o700)
})

t.test('two processes starting at once on an empty directory agree on one key', async t => {
  const dataDir = t.testdir()
  const [a, b] = await Promise.all([LocalKeySet.open({ dataDir }), LocalKeySet.open({ dataDir })])
  t.equal(a.current.kid, b.current.kid)
  t.equal((await readdir(join(dataDir, 'keys'))).filter(f => f.endsWith('.pem')).length, 1, 'the loser removed its key')
})

t.test('rotation signs with a new key and keeps the previous one published, across a restart', async t => {
  const dataDir = t.testdir()
  const clock = fakeClock()
  const keys = await LocalKeySet.open({ dataDir, clock })
  const oldKid = keys.current.kid
  const oldToken = await signJwt(keys.current, { sub: 'old' })
  clock.advance(10)
  const signer = await keys.rotate()
  t.not(signer.kid, oldKid)
  t.equal(keys.current.kid, signer.kid, 'new tokens are signed with the new key')
  t.same((await keys.publicKeys()).map(k => k.kid), [signer.kid, oldKid], 'current first, then previous')
  const newToken = await signJwt(keys.current, { sub: 'new' })
  const restarted = await LocalKeySet.open({ dataDir, clock })
  t.equal(restarted.current.kid, signer.kid)
  const jwks = await restarted.publicKeys()
  t.equal((await verifyWithJwks(oldToken, jwks)).sub, 'old')
  t.equal((await verifyWithJwks(newToken, jwks)).sub, 'new')
})

t.test('a previous key is retired only after it has been out of use for the retention period', async t => {
  const dataDir = t.testdir()
  const clock = fakeClock()
  const keys = await LocalKeySet.open({ dataDir, clock })
  const first = keys.current.kid
  clock.advance(100)
  const second = (await keys.rotate()).kid
  clock.advance(100)
  const third = (await keys.rotate()).kid
  const retention = 3600 + 30
  // first stopped signing at +100 (when second was made), second at +200.
  clock.advance(retention - 101)
  t.same(await keys.retirePrevious(retention), [], 'first has been out of use for retention - 1 s: kept')
  clock.advance(1)
  t.same(await keys.retirePrevious(retention), [first])
  t.same((await keys.publicKeys()).map(k => k.kid), [third, second])
  clock.advance(100)
  t.same(await keys.retirePrevious(retention), [second])
  t.same((await keys.publicKeys()).map(k => k.kid), [third], 'the current key is never retired')
  t.same(await keys.retirePrevious(0), [])
  t.same((await readdir(join(dataDir, 'keys'))).filter(f => f.endsWith('.pem')), [`signing-${third}.pem`], 'retired key files are deleted')
  t.same((await (await LocalKeySet.open({ dataDir, clock })).publicKeys()).map(k => k.kid), [third])
})

t.test('a key file that does not match its kid is refused rather than signing under the wrong kid', async t => {
  const dataDir = t.testdir()
  const keys = await LocalKeySet.open({ dataDir })
  const pem = join(dataDir, 'keys', `signing-${keys.current.kid}.pem`)
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await rename(pem, pem + '.bak')
  await writeFile(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  await t.rejects(LocalKeySet.open({ dataDir }), /does not match/)
})

t.test('a manifest naming a missing key file is an error, not a silent new key', async t => {
  const dataDir = t.testdir()
  const keys = await LocalKeySet.open({ dataDir })
  await rename(join(dataDir, 'keys', `signing-${keys.current.kid}.pem`), join(dataDir, 'elsewhere.pem'))
  await t.rejects(LocalKeySet.open({ dataDir }), /missing/)
})

t.test('concurrent rotations both land: no key is lost from the manifest', async t => {
  const dataDir = t.testdir()
  const keys = await LocalKeySet.open({ dataDir })
  const first = keys.current.kid
  const [a, b] = await Promise.all([keys.rotate(), keys.rotate()])
  const published = (await (await LocalKeySet.open({ dataDir })).publicKeys()).map(k => k.kid)
  t.equal(published.length, 3)
  t.same(new Set(published), new Set([first, a.kid, b.kid]))
  t.equal(published[0], keys.current.kid)
})
