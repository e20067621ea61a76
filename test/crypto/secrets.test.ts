import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import { loadOrCreateLocalSecret, resolveSecretArn, type SecretClients } from '../../src/crypto/secrets.ts'
import { startFakeSecrets } from '../support/fake-secrets.ts'

const fake = await startFakeSecrets()
t.teardown(() => fake.close())
const regions: string[] = []
const clients: SecretClients = {
  secretsManager: region => { regions.push(region); return fake.secretsManagerClient(region) },
  ssm: region => { regions.push(region); return fake.ssmClient(region) }
}

t.test('a Secrets Manager secret ARN resolves to its SecretString', async t => {
  const arn = fake.putSecret('gatehouse/upstream-client-secret', 's3cr3t-from-secrets-manager')
  const before = fake.secretsManager.calls.GetSecretValue ?? 0
  t.equal(await resolveSecretArn(arn, clients), 's3cr3t-from-secrets-manager')
  t.equal((fake.secretsManager.calls.GetSecretValue ?? 0) - before, 1)
})

t.test('an SSM SecureString parameter ARN resolves to its decrypted value', async t => {
  const arn = fake.putParameter('/gatehouse/cookie-secret', 'c'.repeat(40))
  t.equal(await resolveSecretArn(arn, clients), 'c'.repeat(40))
})

t.test('the client is built for the region in the ARN', async t => {
  regions.length = 0
  const arn = fake.putParameter('/gatehouse/x', 'value').replace(':us-east-1:', ':eu-west-1:')
  await t.rejects(resolveSecretArn(arn, clients), KeyServiceError) // stored under us-east-1 in the fake
  t.same(regions, ['eu-west-1'])
})

t.test('a missing secret is a KeyServiceError naming the ARN', async t => {
  const arn = fake.putSecret('exists', 'x').replace('exists', 'missing')
  await t.rejects(resolveSecretArn(arn, clients), { name: 'KeyServiceError', message: new RegExp(arn), cause: { name: 'ResourceNotFoundException' } })
  await t.rejects(resolveSecretArn('arn:aws:ssm:us-east-1:111122223333:parameter/nope', clients), { cause: { name: 'ParameterNotFound' } })
})

t.test('anything but a secret or parameter ARN is refused before any call', async t => {
  for (const bad of ['my-secret', 'arn:aws:s3:::bucket', 'arn:aws:ssm:us-east-1:111122223333:document/x']) {
    await t.rejects(resolveSecretArn(bad, clients), TypeError, bad)
  }
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
