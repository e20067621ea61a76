import t from 'tap'
import { readdir } from 'node:fs/promises'
import { loadConfig } from '../../src/config.ts'
import { createCipher, createKeySet, createKmsClient, LocalCipher, LocalKeySet, resolveSecrets, signingKeyRetentionSeconds } from '../../src/crypto/index.ts'
import { KmsCipher } from '../../src/crypto/kms-cipher.ts'
import { KmsKeySet } from '../../src/crypto/kms-keys.ts'
import { startFakeKms, TEST_CREDENTIALS } from '../support/fake-kms.ts'
import { startFakeSecrets } from '../support/fake-secrets.ts'
import { fakeClock, signJwt, verifyWithJwks } from './jwt-helpers.ts'

const kms = await startFakeKms()
const fakeSecrets = await startFakeSecrets()
t.teardown(async () => { await kms.close(); await fakeSecrets.close() })
const secrets = { secretsManager: fakeSecrets.secretsManagerClient, ssm: fakeSecrets.ssmClient }

t.test('without KMS key ids, keys and cipher are local files under the data dir', async t => {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: t.testdir() })
  const keys = await createKeySet(config, fakeClock())
  t.type(keys, LocalKeySet)
  const cipher = await createCipher(config)
  t.type(cipher, LocalCipher)
  t.equal(await cipher.open(await cipher.seal('x', 'c'), 'c'), 'x')
})

t.test('with KMS key ids, keys and cipher use KMS through the configured endpoint', async t => {
  // The SDK's default credential chain reads these; the fake only checks that requests are signed.
  process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey
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
  t.equal((kms.calls.Sign ?? 0) - signs, 1, 'the signature came from the fake KMS at AWS_ENDPOINT_URL_KMS')
  const generated = kms.calls.GenerateDataKey ?? 0
  const cipher = await createCipher(config)
  t.type(cipher, KmsCipher)
  t.equal(await cipher.open(await cipher.seal('x', 'c'), 'c'), 'x')
  t.equal((kms.calls.GenerateDataKey ?? 0) - generated, 1)
})

t.test('the KMS client honours the endpoint override and the region', async t => {
  const config = loadConfig({ AWS_ENDPOINT_URL_KMS: kms.endpoint, AWS_REGION: 'eu-central-1' })
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

t.test('secrets: ARNs are resolved from Secrets Manager and SSM', async t => {
  const upstreamArn = fakeSecrets.putSecret('gatehouse/upstream', 'upstream-secret')
  const cookieArn = fakeSecrets.putParameter('/gatehouse/cookie', 'k'.repeat(48))
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

t.test('secrets: a cookie secret shorter than 32 characters from an ARN is refused', async t => {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: t.testdir(), COOKIE_SECRET_ARN: fakeSecrets.putSecret('short', 'too-short') })
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
