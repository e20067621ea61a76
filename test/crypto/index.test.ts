// The crypto entry points: local keys, cipher and secrets, and the KMS / Secrets Manager / SSM ones against
// the real AWS emulator (moto, test/support/aws-emulator.ts; one moto for this file), through the real SDK
// clients. A loopback proxy in front of moto (test/support/aws-proxy.ts) counts the KMS calls that reach it
// (Sign, GenerateDataKey, GetPublicKey), so "no KMS call at start" and "the signature came from the
// configured endpoint" are checked on what moto was asked. Without moto the tests that need it are skipped,
// and counted as skipped; the local ones need none.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { loadConfig } from '../../src/config.ts'
import { createCipher, createKeySet, createKmsClient, LocalCipher, LocalKeySet, resolveSecrets, secretsOnFirstUse, signingKeyRetentionSeconds } from '../../src/crypto/index.ts'
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { ConfigError } from '../../src/config.ts'
import { KmsCipher } from '../../src/crypto/kms-cipher.ts'
import { KmsKeySet } from '../../src/crypto/kms-keys.ts'
import type { SecretClients } from '../../src/crypto/secrets.ts'
import { EMULATOR_CREDENTIALS, emulatorUnavailable, startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.ts'
import { startAwsProxy, type AwsProxy } from '../support/aws-proxy.ts'
import { fakeClock, signJwt, verifyWithJwks } from './jwt-helpers.ts'

const unavailable = await emulatorUnavailable({ moto: true })
const skip = unavailable === undefined ? false : `no AWS emulator (${unavailable})`

let aws: AwsEmulator | undefined
let proxy: AwsProxy | undefined
if (unavailable === undefined) {
  aws = await startAwsEmulator({ moto: true })
  proxy = await startAwsProxy(aws.endpoint)
  t.teardown(async () => { await proxy?.close(); await aws?.stop() })
}

/** The emulator, as the code under test reaches it: through the counting proxy. */
const kms = {
  get endpoint (): string { return proxy!.endpoint },
  get calls (): Record<string, number> { return proxy!.calls },
  client: (): KMSClient => new KMSClient({ endpoint: proxy!.endpoint, region: aws!.region, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }),
  async createKey (KeySpec: 'RSA_2048' | 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT'): Promise<{ keyId: string, arn: string }> {
    const { KeyMetadata } = await aws!.kms().send(new CreateKeyCommand({ KeySpec, KeyUsage }))
    return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! }
  },
  createSigningKey: () => kms.createKey('RSA_2048', 'SIGN_VERIFY'),
  createEncryptionKey: () => kms.createKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT')
}
const clientOptions = (region: string) => ({ endpoint: proxy!.endpoint, region, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 })
const secretsManagerClient = (region: string): SecretsManagerClient => new SecretsManagerClient(clientOptions(region))
const secrets: SecretClients = {
  secretsManager: secretsManagerClient,
  ssm: region => new SSMClient(clientOptions(region))
}
const putSecret = async (name: string, value: string): Promise<string> => (await aws!.secretsManager().send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!
/** A SecureString parameter; returns its ARN (the account id as the emulator writes it into ARNs). */
const putParameter = async (name: string, value: string): Promise<string> => {
  await aws!.ssm().send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString' }))
  const account = /^arn:aws:secretsmanager:[^:]+:(\d{12}):/.exec(await putSecret(`gatehouse/account-probe-${Date.now()}`, 'x'))![1]!
  return `arn:aws:ssm:${aws!.region}:${account}:parameter${name}`
}

t.test('without KMS key ids, keys and cipher are local files under the data dir', async t => {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: t.testdir() })
  const keys = await createKeySet(config, fakeClock())
  t.type(keys, LocalKeySet)
  const cipher = await createCipher(config)
  t.type(cipher, LocalCipher)
  t.equal(await cipher.open(await cipher.seal('x', 'c'), 'c'), 'x')
})

t.test('with KMS key ids, keys and cipher use KMS through the configured endpoint', { skip }, async t => {
  // The SDK's default credential chain reads these; the emulator only checks that requests are signed.
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey
  const [current, previous, encryption] = await Promise.all([kms.createSigningKey(), kms.createSigningKey(), kms.createEncryptionKey()])
  const config = loadConfig({
    GATEHOUSE_DATA_DIR: t.testdir(),
    KMS_SIGNING_KEY_ID: current!.arn,
    KMS_PREVIOUS_SIGNING_KEY_IDS: previous!.keyId,
    KMS_ENCRYPTION_KEY_ID: encryption!.keyId,
    AWS_ENDPOINT_URL_KMS: kms.endpoint
  })
  const signs = kms.calls.Sign ?? 0
  const keys = await createKeySet(config, fakeClock())
  t.type(keys, KmsKeySet)
  t.equal((await keys.publicKeys()).length, 2)
  t.equal((await verifyWithJwks(await signJwt(keys.current, { sub: 'u' }), await keys.publicKeys())).sub, 'u')
  t.equal((kms.calls.Sign ?? 0) - signs, 1, 'the signature came from the emulator\'s KMS at AWS_ENDPOINT_URL_KMS')
  const generated = kms.calls.GenerateDataKey ?? 0
  const cipher = await createCipher(config)
  t.type(cipher, KmsCipher)
  t.equal(await cipher.open(await cipher.seal('x', 'c'), 'c'), 'x')
  t.equal((kms.calls.GenerateDataKey ?? 0) - generated, 1)
})

t.test('the KMS client honours the endpoint override and the region', async t => {
  const config = loadConfig({ AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:4566', AWS_REGION: 'eu-central-1' })
  const client = await createKmsClient(config)
  t.equal(await client.config.region(), 'eu-central-1')
  t.equal(String((await client.config.endpoint?.())?.hostname), '127.0.0.1')
})

t.test('local keys past the retention (access token TTL + clock skew) are retired at start', async t => {
  const dataDir = t.testdir()
  const config = loadConfig({ GATEHOUSE_DATA_DIR: dataDir, ACCESS_TOKEN_TTL: '600', CLOCK_SKEW: '30' })
  t.equal(signingKeyRetentionSeconds(config), 630)
  const clock = fakeClock()
  const keys = await createKeySet(config, clock) as LocalKeySet
  const old = keys.current.kid
  await keys.rotate()
  clock.advance(629)
  t.ok((await (await createKeySet(config, clock)).publicKeys()).some(k => k.kid === old), 'kept while a token it signed may be live')
  clock.advance(1)
  t.notOk((await (await createKeySet(config, clock)).publicKeys()).some(k => k.kid === old), 'retired after')
})

t.test('secrets: ARNs are resolved from Secrets Manager and SSM', { skip }, async t => {
  const upstreamArn = await putSecret('gatehouse/upstream', 'upstream-secret')
  const cookieArn = await putParameter('/gatehouse/cookie', 'k'.repeat(48))
  const config = loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), UPSTREAM_ISSUER: 'https://idp.example', UPSTREAM_CLIENT_SECRET_ARN: upstreamArn, COOKIE_SECRET_ARN: cookieArn })
  t.same(await resolveSecrets(config, { secrets }), { upstreamClientSecret: 'upstream-secret', cookieSecret: 'k'.repeat(48) })
})

t.test('secrets: literal values are used as given; a local run generates and keeps a cookie secret', async t => {
  const dataDir = t.testdir()
  t.same(await resolveSecrets(loadConfig({ GATEHOUSE_DATA_DIR: dataDir, UPSTREAM_ISSUER: 'https://idp.example', UPSTREAM_CLIENT_SECRET: 'lit', COOKIE_SECRET: 'z'.repeat(32) })), { upstreamClientSecret: 'lit', cookieSecret: 'z'.repeat(32) })
  const generated = await resolveSecrets(loadConfig({ GATEHOUSE_DATA_DIR: dataDir, UPSTREAM_ISSUER: 'https://idp.example' }))
  t.equal(generated.upstreamClientSecret, undefined, 'a public upstream client has no secret')
  t.match(generated.cookieSecret, /^[A-Za-z0-9_-]{43}$/)
  t.equal((await resolveSecrets(loadConfig({ GATEHOUSE_DATA_DIR: dataDir }))).cookieSecret, generated.cookieSecret, 'kept across restarts')
})

t.test('secrets: a cookie secret shorter than 32 characters from an ARN is refused', { skip }, async t => {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), COOKIE_SECRET_ARN: await putSecret('short', 'too-short') })
  await t.rejects(resolveSecrets(config, { secrets }), /at least 32/)
})

t.test('in Lambda, local keys are refused: they would differ per instance and the file system is read-only', async t => {
  const config = { ...loadConfig({ GATEHOUSE_DATA_DIR: t.testdir() }), inLambda: true }
  await t.rejects(createKeySet(config, fakeClock()), /KMS_SIGNING_KEY_ID/)
  await t.rejects(createCipher(config), /KMS_ENCRYPTION_KEY_ID/)
  await t.rejects(resolveSecrets(config), /COOKIE_SECRET_ARN/)
})

t.test('in Lambda, a pure resource server (no cookies) gets a throwaway cookie secret, never written to disk', async t => {
  const dataDir = t.testdir()
  const config = { ...loadConfig({ GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: 'https://issuer.example' }), inLambda: true }
  const a = await resolveSecrets(config)
  const b = await resolveSecrets(config)
  t.match(a.cookieSecret, /^[A-Za-z0-9_-]{43}$/)
  t.not(a.cookieSecret, b.cookieSecret)
  t.same(await readdir(dataDir), [])
})

/** What Terraform's aws_kms_public_key gives as `public_key`: base64 DER SubjectPublicKeyInfo. */
async function deliveredKey (keyId: string): Promise<Uint8Array> {
  return (await kms.client().send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!
}

t.test('KmsKeySet with delivered public keys: no KMS call and no client until the first signature', { skip }, async t => {
  const [current, previous] = await Promise.all([kms.createSigningKey(), kms.createSigningKey()])
  const fetched = await KmsKeySet.open({ client: kms.client(), currentKeyId: current!.arn, previousKeyIds: [previous!.arn] })
  const delivered = new Map([[current!.arn, await deliveredKey(current!.arn)], [previous!.arn, await deliveredKey(previous!.arn)]])
  const before = { get: kms.calls.GetPublicKey ?? 0, sign: kms.calls.Sign ?? 0 }
  let clients = 0
  const keys = await KmsKeySet.open({ client: async () => { clients++; return kms.client() }, currentKeyId: current!.arn, previousKeyIds: [previous!.arn], delivered })
  t.same(await keys.publicKeys(), await fetched.publicKeys(), 'the same JWKs (kids) as GetPublicKey gives')
  t.equal(clients, 0, 'no KMS client built at start')
  t.equal((kms.calls.GetPublicKey ?? 0) - before.get, 0, 'no GetPublicKey')
  const token = await signJwt(keys.current, { sub: 'u1' })
  t.equal((await verifyWithJwks(token, await keys.publicKeys())).sub, 'u1', 'a token it signs verifies with the delivered key')
  await signJwt(keys.current, { sub: 'u2' })
  t.equal(clients, 2, 'the client source is asked on each signature (lazyKmsClient shares one client)')
  t.equal((kms.calls.Sign ?? 0) - before.sign, 2)
})

t.test('KmsKeySet: a delivered public key that is not the KMS key\'s refuses the first signature, so nothing unverifiable is issued', { skip }, async t => {
  const [current, other] = await Promise.all([kms.createSigningKey(), kms.createSigningKey()])
  const keys = await KmsKeySet.open({ client: kms.client(), currentKeyId: current!.arn, delivered: new Map([[current!.arn, await deliveredKey(other!.arn)]]) })
  await t.rejects(keys.current.sign(Buffer.from('x')), { name: 'KeyServiceError', message: /KMS_SIGNING_PUBLIC_KEYS: the public key given for .* does not verify/ })
  await t.rejects(keys.current.sign(Buffer.from('x')), { name: 'KeyServiceError' }, 'and keeps refusing')
})

t.test('KmsKeySet: a configured key id without a delivered public key, or a non-RSA one, fails the start', { skip }, async t => {
  const [current, previous] = await Promise.all([kms.createSigningKey(), kms.createSigningKey()])
  await t.rejects(KmsKeySet.open({ client: kms.client(), currentKeyId: current!.arn, previousKeyIds: [previous!.arn], delivered: new Map([[current!.arn, await deliveredKey(current!.arn)]]) }), { name: 'KeyServiceError', message: `KMS_SIGNING_PUBLIC_KEYS has no public key for ${previous!.arn}` })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' })
  await t.rejects(KmsKeySet.open({ client: kms.client(), currentKeyId: current!.arn, delivered: new Map([[current!.arn, ec]]) }), TypeError)
})

t.test('KMS_SIGNING_PUBLIC_KEYS: the keys come from the environment, KMS only signs and seals', { skip }, async t => {
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey
  const [current, previous, encryption] = await Promise.all([kms.createSigningKey(), kms.createSigningKey(), kms.createEncryptionKey()])
  const der = async (id: string): Promise<string> => Buffer.from((await kms.client().send(new GetPublicKeyCommand({ KeyId: id }))).PublicKey!).toString('base64')
  const env = {
    GATEHOUSE_DATA_DIR: t.testdir(),
    KMS_SIGNING_KEY_ID: current!.arn,
    KMS_PREVIOUS_SIGNING_KEY_IDS: previous!.arn,
    KMS_SIGNING_PUBLIC_KEYS: JSON.stringify({ [current!.arn]: await der(current!.arn), [previous!.arn]: await der(previous!.arn) }),
    KMS_ENCRYPTION_KEY_ID: encryption!.keyId,
    AWS_ENDPOINT_URL_KMS: kms.endpoint
  }
  const before = kms.calls.GetPublicKey ?? 0
  const keys = await createKeySet(loadConfig(env), fakeClock())
  const cipher = await createCipher(loadConfig(env))
  t.equal((kms.calls.GetPublicKey ?? 0) - before, 0, 'no GetPublicKey at start')
  t.equal((await keys.publicKeys()).length, 2)
  t.equal((await verifyWithJwks(await signJwt(keys.current, { sub: 'u' }), await keys.publicKeys())).sub, 'u', 'KMS signs, the delivered key verifies')
  t.equal(await cipher.open(await cipher.seal('x', 'c'), 'c'), 'x')

  const [currentDer, previousDer] = [await der(current!.arn), await der(previous!.arn)]
  t.throws(() => loadConfig({ ...env, KMS_SIGNING_PUBLIC_KEYS: '{x' }), new ConfigError('invalid configuration:\n  KMS_SIGNING_PUBLIC_KEYS: not JSON'))
  t.throws(() => loadConfig({ ...env, KMS_SIGNING_PUBLIC_KEYS: '[]' }), /expected a JSON object/)
  t.throws(() => loadConfig({ ...env, KMS_SIGNING_PUBLIC_KEYS: JSON.stringify({ [current!.arn]: currentDer }) }), /no public key for "arn:aws:kms:.*"/, 'every configured key id needs its key')
  t.throws(() => loadConfig({ ...env, KMS_SIGNING_PUBLIC_KEYS: JSON.stringify({ [current!.arn]: currentDer, [previous!.arn]: previousDer, 'arn:aws:kms:us-east-1:1:key/x': 'AAAA' }) }), /"arn:aws:kms:us-east-1:1:key\/x" is not a configured signing key id/)
  t.throws(() => loadConfig({ ...env, KMS_SIGNING_PUBLIC_KEYS: JSON.stringify({ [current!.arn]: 'not base64!', [previous!.arn]: previousDer }) }), /is not base64/)
  t.throws(() => loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), KMS_SIGNING_PUBLIC_KEYS: '{}' }), /set without KMS_SIGNING_KEY_ID/)
})

t.test('secrets on first use: an ARN is read when first asked, once, and a failure is not kept', { skip }, async t => {
  const upstreamArn = await putSecret('gatehouse/upstream-lazy', 'upstream-secret')
  const cookieArn = await putSecret('gatehouse/cookie-lazy', 'c'.repeat(40))
  let reads = 0
  const counting = { secretsManager: (region: string) => { reads++; return secretsManagerClient(region) } }
  const lazy = await secretsOnFirstUse(loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), UPSTREAM_ISSUER: 'https://idp.example', UPSTREAM_CLIENT_SECRET_ARN: upstreamArn, COOKIE_SECRET_ARN: cookieArn }), { secrets: counting })
  t.equal(reads, 0, 'nothing read at start')
  t.type(lazy.cookieSecret, 'function')
  const [a, b] = await Promise.all([(lazy.cookieSecret as () => Promise<string>)(), (lazy.cookieSecret as () => Promise<string>)()])
  t.equal(a, 'c'.repeat(40))
  t.equal(b, a)
  t.equal(await (lazy.upstreamClientSecret as () => Promise<string>)(), 'upstream-secret')
  t.equal(reads, 2, 'one read per secret')
  await (lazy.cookieSecret as () => Promise<string>)()
  t.equal(reads, 2, 'kept once read')

  const missing = upstreamArn.replace('upstream-lazy', 'no-such-secret')
  const wrong = await secretsOnFirstUse(loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), UPSTREAM_ISSUER: 'https://idp.example', UPSTREAM_CLIENT_SECRET_ARN: missing, COOKIE_SECRET: 'z'.repeat(32) }), { secrets: counting })
  t.equal(wrong.cookieSecret, 'z'.repeat(32), 'a literal value is ready at once')
  await t.rejects((wrong.upstreamClientSecret as () => Promise<string>)(), { name: 'KeyServiceError', message: `could not read secret ${missing}` })
  await t.rejects((wrong.upstreamClientSecret as () => Promise<string>)(), { name: 'KeyServiceError' }, 'read again, fails again')
  t.equal(reads, 4)
  t.same(await secretsOnFirstUse(loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), UPSTREAM_ISSUER: 'https://idp.example', UPSTREAM_CLIENT_SECRET: 'lit', COOKIE_SECRET: 'y'.repeat(32) })), { upstreamClientSecret: 'lit', cookieSecret: 'y'.repeat(32) })
})
