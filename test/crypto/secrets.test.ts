// Secrets by ARN against a real AWS emulator (moto's Secrets Manager and SSM, test/support/aws-emulator.ts),
// through the real SDK clients: secrets are created with CreateSecret and PutParameter (SecureString) and
// read back by resolveSecretArn. A loopback proxy in front of moto (test/support/aws-proxy.ts) counts the
// requests that reach it. The tests that need the emulator are skipped, and counted as skipped, without moto;
// the local-secret tests below need none.
import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import { loadOrCreateLocalSecret, resolveSecretArn, type SecretClients } from '../../src/crypto/secrets.ts'
import { EMULATOR_CREDENTIALS, emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'

const unavailable = await emulatorUnavailable({ moto: true })

if (unavailable !== undefined) {
  t.test(`secrets by ARN from the AWS emulator's Secrets Manager and SSM (skipped, not passed: ${unavailable})`, { skip: unavailable }, () => {})
} else {
  const aws = await startAwsEmulator({ moto: true })
  const proxy = await startAwsProxy(aws.endpoint)
  t.teardown(async () => { await proxy.close(); await aws.stop() })
  const regions: string[] = []
  const options = (region: string) => ({ endpoint: proxy.endpoint, region, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 })
  const clients: SecretClients = {
    secretsManager: region => { regions.push(region); return new SecretsManagerClient(options(region)) },
    ssm: region => { regions.push(region); return new SSMClient(options(region)) }
  }
  const putSecret = async (name: string, value: string): Promise<string> => (await aws.secretsManager().send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!
  /** A SecureString (KMS-encrypted at rest; GetParameter returns it decrypted only WithDecryption). Returns its ARN. */
  const putParameter = async (name: string, value: string): Promise<string> => {
    await aws.ssm().send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString' }))
    return `arn:aws:ssm:${aws.region}:${arnAccount}:parameter${name}`
  }
  // The emulator's account id, as it writes it into ARNs.
  const arnAccount = /^arn:aws:secretsmanager:[^:]+:(\d{12}):/.exec(await putSecret('gatehouse/account-probe', 'x'))![1]!

  t.test('a Secrets Manager secret ARN resolves to its SecretString', async t => {
    const arn = await putSecret('gatehouse/upstream-client-secret', 's3cr3t-from-secrets-manager')
    t.match(arn, /:secret:gatehouse\/upstream-client-secret-[A-Za-z0-9]{6}$/, 'an ARN with the random suffix Secrets Manager adds')
    const before = proxy.calls.GetSecretValue ?? 0
    t.equal(await resolveSecretArn(arn, clients), 's3cr3t-from-secrets-manager')
    t.equal((proxy.calls.GetSecretValue ?? 0) - before, 1)
  })

  t.test('an SSM SecureString parameter ARN resolves to its decrypted value', async t => {
    const arn = await putParameter('/gatehouse/cookie-secret', 'c'.repeat(40))
    const before = proxy.requests.length
    t.equal(await resolveSecretArn(arn, clients), 'c'.repeat(40))
    t.match(proxy.requests.slice(before), [{ operation: 'GetParameter', body: { Name: arn, WithDecryption: true } }], 'read by its ARN, decrypted')
  })

  t.test('the client is built for the region in the ARN', async t => {
    regions.length = 0
    const arn = (await putParameter('/gatehouse/x', 'value')).replace(`:${aws.region}:`, ':eu-west-1:')
    await t.rejects(resolveSecretArn(arn, clients), { name: 'KeyServiceError', cause: { name: 'ParameterNotFound' } }, 'stored in us-east-1, asked in eu-west-1')
    t.same(regions, ['eu-west-1'])
  })

  t.test('a missing secret is a KeyServiceError naming the ARN', async t => {
    const arn = (await putSecret('exists', 'x')).replace('exists', 'missing')
    await t.rejects(resolveSecretArn(arn, clients), { name: 'KeyServiceError', message: new RegExp(arn), cause: { name: 'ResourceNotFoundException' } })
    await t.rejects(resolveSecretArn(`arn:aws:ssm:${aws.region}:${arnAccount}:parameter/nope`, clients), { name: 'KeyServiceError', cause: { name: 'ParameterNotFound' } })
  })

  t.test('a secret without a string value (binary only) is a KeyServiceError', async t => {
    const { ARN } = await aws.secretsManager().send(new CreateSecretCommand({ Name: 'gatehouse/binary-only', SecretBinary: Buffer.from('not a string') }))
    await t.rejects(resolveSecretArn(ARN!, clients), { name: 'KeyServiceError', message: /has no string value/ })
  })

  t.test('throttling is a KeyServiceError (injected by the proxy: moto never throttles)', async t => {
    const arn = await putSecret('gatehouse/throttled', 'v')
    proxy.fail('GetSecretValue', { type: 'ThrottlingException' })
    await t.rejects(resolveSecretArn(arn, clients), { name: 'KeyServiceError', cause: { name: 'ThrottlingException' } })
    t.equal(await resolveSecretArn(arn, clients), 'v', 'the next read works')
  })
}

t.test('anything but a secret or parameter ARN is refused before any call', async t => {
  const calls: string[] = []
  const refusing: SecretClients = { secretsManager: r => { calls.push(r); throw new Error('no call expected') }, ssm: r => { calls.push(r); throw new Error('no call expected') } }
  for (const bad of ['my-secret', 'arn:aws:s3:::bucket', 'arn:aws:ssm:us-east-1:111122223333:document/x']) {
    await t.rejects(resolveSecretArn(bad, refusing), TypeError, bad)
  }
  t.same(calls, [])
})

t.test('a local secret is 32 random bytes, created once, kept 0600 and reused', async t => {
  const dataDir = t.testdir()
  const first = await loadOrCreateLocalSecret(dataDir, 'cookie')
  t.match(first, /^[A-Za-z0-9_-]{43}$/)
  t.equal(Buffer.from(first, 'base64url').length, 32)
  const path = join(dataDir, 'keys', 'cookie.secret')
  t.equal((await stat(path)).mode & 0o777, 0o600)
  t.equal(await loadOrCreateLocalSecret(dataDir, 'cookie'), first, 'same value after a restart')
  t.equal((await readFile(path, 'utf8')).trim(), first)
  t.not(await loadOrCreateLocalSecret(dataDir, 'other'), first, 'each name has its own secret')
  t.not(await loadOrCreateLocalSecret(t.testdir(), 'cookie'), first, 'random per data dir')
})

t.test('concurrent first use of a local secret yields one value', async t => {
  const dataDir = t.testdir()
  const values = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateLocalSecret(dataDir, 'cookie')))
  t.equal(new Set(values).size, 1)
})

t.test('a local secret name cannot escape the keys directory', async t => {
  await t.rejects(loadOrCreateLocalSecret(t.testdir(), '../etc'), TypeError)
})
