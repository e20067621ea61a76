// For a test file whose app reads secrets by ARN: moto's Secrets Manager behind the counting proxy, with the
// SDK's environment pointed at the proxy, so the file can both create secrets and count GetSecretValue.
// Without moto, `skip` carries the reason for the tests that need it (they are counted as skipped).
import type { Test } from 'tap'
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager'
import { EMULATOR_CREDENTIALS, emulatorUnavailable, startAwsEmulator } from './aws-emulator.ts'
import { startAwsProxy, type AwsProxy } from './aws-proxy.ts'

export interface SecretsEmulator {
  skip: false | string
  /** GetSecretValue calls that reached the emulator so far. */
  reads (): number
  /** Creates a secret and returns its ARN. */
  putSecret (name: string, value: string): Promise<string>
}

export async function secretsEmulator (t: Test): Promise<SecretsEmulator> {
  const unavailable = await emulatorUnavailable({ moto: true })
  if (unavailable !== undefined) {
    return { skip: `no AWS emulator (${unavailable})`, reads: () => 0, putSecret: async () => { throw new Error('no emulator') } }
  }
  const aws = await startAwsEmulator({ moto: true })
  const proxy: AwsProxy = await startAwsProxy(aws.endpoint)
  t.teardown(async () => { await proxy.close(); await aws.stop() })
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = proxy.endpoint
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey
  return {
    skip: false,
    reads: () => proxy.calls.GetSecretValue ?? 0,
    putSecret: async (name, value) => (await aws.secretsManager().send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN as string
  }
}
