// KmsKeySet against a real AWS emulator (moto's KMS, test/support/aws-emulator.ts): keys are created with
// CreateKey, public keys come from GetPublicKey, signatures from Sign, all through the real SDK client.
// A loopback proxy in front of moto (test/support/aws-proxy.ts) counts requests per operation and shows
// what gatehouse sent; it also injects the faults moto cannot produce (ThrottlingException, DisabledException:
// moto 5.2.1 keeps signing with a disabled key). Skipped, and counted as skipped, when moto is not installed.
import t from 'tap'
import { createPublicKey, verify } from 'node:crypto'
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, UpdateAliasCommand, type KMSClient } from '@aws-sdk/client-kms'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import { KmsKeySet } from '../../src/crypto/kms-keys.ts'
import { emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'
import type { KmsApi } from '../../src/crypto/kms-keys.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'
import { kmsClientAt } from '../support/kms-client.ts'
import { signJwt, verifiesWithJwk, verifyWithJwks } from './jwt-helpers.ts'

const unavailable = await emulatorUnavailable({ moto: true })

if (unavailable !== undefined) {
  t.test(`KmsKeySet against the AWS emulator's KMS (skipped, not passed: ${unavailable})`, { skip: unavailable }, () => {})
} else {
  const aws = await startAwsEmulator({ moto: true })
  const proxy = await startAwsProxy(aws.endpoint)
  t.teardown(async () => { await proxy.close(); await aws.stop() })
  /** Administrative calls (creating keys, aliases) go straight to moto and are not counted. */
  const admin = aws.kms()
  /** gatehouse's client: through the counting proxy. */
  const client = (): KMSClient | KmsApi => kmsClientAt(proxy.endpoint, aws.region)
  const createKey = async (usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT' = 'SIGN_VERIFY'): Promise<{ keyId: string, arn: string }> => {
    const { KeyMetadata } = await admin.send(new CreateKeyCommand(usage === 'SIGN_VERIFY' ? { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' } : { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }))
    return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! }
  }
  const kmsPublicKey = async (keyId: string) => createPublicKey({ key: Buffer.from((await admin.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!), format: 'der', type: 'spki' })

  t.test('a KMS signature verifies against the KMS public key and the JWK built from GetPublicKey', async t => {
    const key = await createKey()
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: key.keyId })
    const [jwk] = await keys.publicKeys()
    t.equal(jwk?.kid, keys.current.kid)
    const data = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9')
    const signature = await keys.current.sign(data)
    t.ok(verify('sha256', data, await kmsPublicKey(key.keyId), signature), 'verifies with the public key KMS holds')
    t.ok(verifiesWithJwk(jwk!, data, signature), 'node crypto verifies with the published JWK')
    t.notOk(verifiesWithJwk(jwk!, Buffer.from('other'), signature))
    const token = await signJwt(keys.current, { sub: 'u1', aud: 'https://mcp.example/mcp' })
    t.equal((await verifyWithJwks(token, await keys.publicKeys())).sub, 'u1', 'fast-jwt verifies')
  })

  t.test('Sign sends a 32-byte SHA-256 digest, so messages beyond the 4 KB RAW limit sign too', async t => {
    const key = await createKey()
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: key.arn })
    const big = Buffer.alloc(10_000, 'a')
    const [jwk] = await keys.publicKeys()
    const before = proxy.requests.length
    t.ok(verifiesWithJwk(jwk!, big, await keys.current.sign(big)))
    // AWS KMS refuses RAW messages over 4096 bytes (moto does not enforce that limit, so the request is checked).
    const sent = proxy.requests.slice(before).filter(r => r.operation === 'Sign')
    t.equal(sent.length, 1)
    t.match(sent[0]?.body, { MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })
    t.equal(Buffer.from(String(sent[0]?.body.Message), 'base64').length, 32, 'the message sent is the 32-byte digest')
  })

  t.test('the key set publishes current then previous keys and signs with the current one', async t => {
    const [current, previous1, previous2] = await Promise.all([createKey(), createKey(), createKey()])
    const old = await KmsKeySet.open({ client: client(), currentKeyId: previous1!.keyId })
    const oldToken = await signJwt(old.current, { sub: 'old' })
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: current!.keyId, previousKeyIds: [previous1!.keyId, previous2!.arn] })
    const jwks = await keys.publicKeys()
    t.equal(jwks.length, 3)
    t.equal(jwks[0]?.kid, keys.current.kid, 'current first')
    t.equal(jwks[1]?.kid, old.current.kid)
    t.equal(new Set(jwks.map(k => k.kid)).size, 3)
    t.equal((await verifyWithJwks(oldToken, jwks)).sub, 'old', 'tokens from the previous key still verify')
    const token = await signJwt(keys.current, { sub: 'new' })
    t.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid, jwks[0]?.kid)
    t.equal((await verifyWithJwks(token, [jwks[0]!])).sub, 'new')
    await t.rejects(verifyWithJwks(token, [jwks[1]!, jwks[2]!]), 'the new token needs the current key')
  })

  t.test('public keys are fetched once per key for the process lifetime; the same key listed twice is published once', async t => {
    const [a, b] = await Promise.all([createKey(), createKey()])
    const before = proxy.calls.GetPublicKey ?? 0
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: a!.keyId, previousKeyIds: [b!.keyId, a!.arn] })
    for (let i = 0; i < 5; i++) await keys.publicKeys()
    t.equal((proxy.calls.GetPublicKey ?? 0) - before, 3, 'one GetPublicKey per configured id at start, none after')
    t.equal((await keys.publicKeys()).length, 2)
  })

  t.test('a mutated JWK returned to one caller does not change what others see', async t => {
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: (await createKey()).keyId })
    const [jwk] = await keys.publicKeys()
    jwk!.n = 'tampered'
    t.not((await keys.publicKeys())[0]?.n, 'tampered')
  })

  t.test('a signer keeps the key it resolved even if the alias is re-pointed', async t => {
    const [first, second] = await Promise.all([createKey(), createKey()])
    await admin.send(new CreateAliasCommand({ AliasName: 'alias/gatehouse-signing', TargetKeyId: first!.keyId }))
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: 'alias/gatehouse-signing' })
    await admin.send(new UpdateAliasCommand({ AliasName: 'alias/gatehouse-signing', TargetKeyId: second!.keyId }))
    const before = proxy.requests.length
    const token = await signJwt(keys.current, { sub: 'u' })
    t.equal((await verifyWithJwks(token, await keys.publicKeys())).sub, 'u', 'the published kid still matches the signing key')
    const [signed] = proxy.requests.slice(before).filter(r => r.operation === 'Sign')
    t.match(String(signed?.body.KeyId), first!.keyId, 'Sign names the key the alias pointed at when the set opened, not the alias')
  })

  t.test('an encryption key is refused as a signing key at start', async t => {
    const key = await createKey('ENCRYPT_DECRYPT')
    await t.rejects(KmsKeySet.open({ client: client(), currentKeyId: key.keyId }), { name: 'KeyServiceError', message: /not an RSA signing key/ })
  })

  t.test('an unknown key id fails the start', async t => {
    await t.rejects(KmsKeySet.open({ client: client(), currentKeyId: '00000000-0000-0000-0000-000000000000' }), { name: 'KeyServiceError', cause: { name: 'NotFoundException' } })
  })

  t.test('a KMS failure while signing (throttled, disabled key, internal error) is a KeyServiceError, and the next signature works', async t => {
    const key = await createKey()
    const keys = await KmsKeySet.open({ client: client(), currentKeyId: key.keyId })
    // Injected by the proxy: moto never throttles, and keeps signing with a disabled key.
    for (const fault of [{ type: 'ThrottlingException' }, { type: 'DisabledException' }, { type: 'KMSInternalException', status: 500 }]) {
      proxy.fail('Sign', fault)
      await t.rejects(keys.current.sign(Buffer.from('x')), { name: 'KeyServiceError', cause: { name: fault.type } }, fault.type)
    }
    const [jwk] = await keys.publicKeys()
    t.ok(verifiesWithJwk(jwk!, Buffer.from('x'), await keys.current.sign(Buffer.from('x'))), 'a failure leaves the signer usable')
  })

  t.test('GetPublicKey failing at start is a KeyServiceError', async t => {
    proxy.fail('GetPublicKey', { type: 'ThrottlingException' })
    await t.rejects(KmsKeySet.open({ client: client(), currentKeyId: (await createKey()).keyId }), KeyServiceError)
  })
}
