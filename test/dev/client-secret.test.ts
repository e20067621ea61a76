// Defect 10 of the outside review: `npm start` gave the development IdP its default client secret even
// when gatehouse reads its own from Secrets Manager (UPSTREAM_CLIENT_SECRET_ARN), so the token exchange
// failed with invalid_client. The IdP now gets the value gatehouse will present, read from the real
// emulator's Secrets Manager.
import t from 'tap'
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager'
import { loadConfig } from '../../src/config.ts'
import { devIdpClientSecret } from '../../src/dev/client-secret.ts'
import { emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'

t.test('without an ARN: the configured or default local secret', async t => {
  t.equal(await devIdpClientSecret(loadConfig({})), 'gatehouse-local-secret')
  t.equal(await devIdpClientSecret(loadConfig({ UPSTREAM_CLIENT_SECRET: 's3cret-value' })), 's3cret-value')
})

const unavailable = await emulatorUnavailable({ moto: true })

t.test('with UPSTREAM_CLIENT_SECRET_ARN: the secret stored there, not the default', { skip: unavailable === undefined ? false : `no AWS emulator (${unavailable})` }, async t => {
  const emulator = await startAwsEmulator({ moto: true })
  t.teardown(() => emulator.stop())
  const created = await emulator.secretsManager().send(new CreateSecretCommand({ Name: 'gatehouse/upstream-client-secret', SecretString: 'from-secrets-manager' }))
  const config = loadConfig({ UPSTREAM_CLIENT_SECRET_ARN: created.ARN })
  const secretsManager = () => emulator.secretsManager()
  t.equal(await devIdpClientSecret(config, { secretsManager }), 'from-secrets-manager')
  const missing = loadConfig({ UPSTREAM_CLIENT_SECRET_ARN: created.ARN?.replace('upstream-client-secret', 'no-such-secret') })
  await t.rejects(devIdpClientSecret(missing, { secretsManager }), { name: 'KeyServiceError', message: /could not read secret/ })
})
