import t from 'tap'
import { CreateKeyCommand, SignCommand } from '@aws-sdk/client-kms'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import { KmsKeySet } from '../../src/crypto/kms-keys.ts'
import { startFakeKms } from '../support/fake-kms.ts'
import { signJwt, verifiesWithJwk, verifyWithJwks } from './jwt-helpers.ts'

const kms = await startFakeKms()
t.teardown(() => kms.close())

t.test('a KMS signature verifies against the JWK built from GetPublicKey', async t => {
  const key = await kms.createSigningKey()
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: key.keyId })
  const [jwk] = await keys.publicKeys()
  t.equal(jwk?.kid, keys.current.kid)
  const data = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9')
  const signature = await keys.current.sign(data)
  t.ok(verifiesWithJwk(jwk!, data, signature), 'node crypto verifies')
  t.notOk(verifiesWithJwk(jwk!, Buffer.from('other'), signature))
  const token = await signJwt(keys.current, { sub: 'u1', aud: 'https://mcp.example/mcp' })
  t.equal((await verifyWithJwks(token, await keys.publicKeys())).sub, 'u1', 'fast-jwt verifies')
})

t.test('Sign sends a SHA-256 digest, so messages beyond the 4 KB RAW limit sign too', async t => {
  const key = await kms.createSigningKey()
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: key.arn })
  const big = Buffer.alloc(10_000, 'a')
  const [jwk] = await keys.publicKeys()
  t.ok(verifiesWithJwk(jwk!, big, await keys.current.sign(big)))
  await t.rejects(kms.client().send(new SignCommand({ KeyId: key.arn, Message: big, MessageType: 'RAW', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })), { name: 'ValidationException' }, 'the fake enforces the RAW limit like KMS')
})

t.test('the key set publishes current then previous keys and signs with the current one', async t => {
  const [current, previous1, previous2] = await Promise.all([kms.createSigningKey(), kms.createSigningKey(), kms.createSigningKey()])
  const old = await KmsKeySet.open({ client: kms.client(), currentKeyId: previous1!.keyId })
  const oldToken = await signJwt(old.current, { sub: 'old' })
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: current!.keyId, previousKeyIds: [previous1!.keyId, previous2!.arn] })
  const jwks = await keys.publicKeys()
  t.equal(jwks.length, 3)
  t.equal(jwks[0]?.kid, keys.current.kid, 'current first')
  t.equal(jwks[1]?.kid, old.current.kid)
  t.equal(new Set(jwks.map(k => k.kid)).size, 3)
  t.equal((await verifyWithJwks(oldToken, jwks)).sub, 'old', 'tokens from the previous key still verify')
  const token = await signJwt(keys.current, { sub: 'new' })
  t.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid, jwks[0]?.kid)
  t.equal((await verifyWithJwks(token, [jwks[0]!])).sub, 'new')
})

t.test('public keys are fetched once per key for the process lifetime', async t => {
  const [a, b] = await Promise.all([kms.createSigningKey(), kms.createSigningKey()])
  const before = kms.calls.GetPublicKey ?? 0
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: a!.keyId, previousKeyIds: [b!.keyId] })
  for (let i = 0; i < 5; i++) await keys.publicKeys()
  t.equal((kms.calls.GetPublicKey ?? 0) - before, 2)
})

t.test('a mutated JWK returned to one caller does not change what others see', async t => {
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: (await kms.createSigningKey()).keyId })
  const [jwk] = await keys.publicKeys()
  jwk!.n = 'tampered'
  t.not((await keys.publicKeys())[0]?.n, 'tampered')
})

t.test('a signer keeps the key it resolved even if the alias is re-pointed', async t => {
  const [first, second] = await Promise.all([kms.createSigningKey(), kms.createSigningKey()])
  kms.setAlias('alias/gatehouse-signing', first!.keyId)
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: 'alias/gatehouse-signing' })
  kms.setAlias('alias/gatehouse-signing', second!.keyId)
  const token = await signJwt(keys.current, { sub: 'u' })
  t.equal((await verifyWithJwks(token, await keys.publicKeys())).sub, 'u', 'the published kid still matches the signing key')
})

t.test('an encryption key is refused as a signing key at start', async t => {
  const key = await kms.createEncryptionKey()
  await t.rejects(KmsKeySet.open({ client: kms.client(), currentKeyId: key.keyId }), KeyServiceError)
  await t.rejects(kms.client().send(new SignCommand({ KeyId: key.keyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })), { name: 'InvalidKeyUsageException' }, 'the fake KMS rejects Sign on a non-signing key')
})

t.test('an unknown key id fails the start', async t => {
  await t.rejects(KmsKeySet.open({ client: kms.client(), currentKeyId: '00000000-0000-0000-0000-000000000000' }), { name: 'KeyServiceError', cause: { name: 'NotFoundException' } })
})

t.test('a KMS failure while signing is a KeyServiceError', async t => {
  const key = await kms.createSigningKey()
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: key.keyId })
  kms.disableKey(key.keyId)
  await t.rejects(keys.current.sign(Buffer.from('x')), { name: 'KeyServiceError', cause: { name: 'DisabledException' } })
})

t.test('CreateKey over the wire makes a usable signing key', async t => {
  const out = await kms.client().send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
  t.equal(out.KeyMetadata?.KeyUsage, 'SIGN_VERIFY')
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: out.KeyMetadata!.Arn! })
  t.equal((await keys.publicKeys()).length, 1)
})
