// Hand-written stand-ins for the AWS Secrets Manager and SSM Parameter Store services: loopback servers
// speaking their JSON 1.1 protocols (secretsmanager.GetSecretValue, AmazonSSM.GetParameter).
//
// Tests use the real emulator instead (moto: aws-emulator.ts, which serves both, SecureString decryption
// and reads by ARN included). Why this stand-in is still here (issue 16): scripts/bench-cold-start.ts
// (the speed engineer's) reads the function's secrets from it without needing moto, and
// test/crypto/index.test.ts has tests of secrets on first use being written against it; see fake-kms.ts.
// Delete it when neither uses it any more.
import { randomUUID } from 'node:crypto'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { AwsError, startAwsJsonServer, TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, type AwsJsonServer } from './fake-kms.ts'

export interface FakeSecrets {
  secretsManager: AwsJsonServer
  ssm: AwsJsonServer
  /** Stores a secret string; returns its ARN (with the random suffix Secrets Manager adds). */
  putSecret (name: string, value: string): string
  /** Stores a parameter; returns its ARN. A SecureString is returned encrypted unless WithDecryption is set. */
  putParameter (name: string, value: string, type?: 'String' | 'SecureString'): string
  secretsManagerClient (region?: string): SecretsManagerClient
  ssmClient (region?: string): SSMClient
  close (): Promise<void>
}

export async function startFakeSecrets (): Promise<FakeSecrets> {
  const secrets = new Map<string, { arn: string, name: string, value: string, versionId: string }>()
  const parameters = new Map<string, { arn: string, name: string, value: string, type: string }>()

  const secretsManager = await startAwsJsonServer('secretsmanager', {
    GetSecretValue (input) {
      const id = String(input.SecretId ?? '')
      const secret = secrets.get(id) ?? [...secrets.values()].find(s => s.name === id)
      if (secret === undefined) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
      return { ARN: secret.arn, Name: secret.name, SecretString: secret.value, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'], CreatedDate: Math.floor(Date.now() / 1000) }
    }
  })
  const ssm = await startAwsJsonServer('AmazonSSM', {
    GetParameter (input) {
      const id = String(input.Name ?? '')
      const parameter = parameters.get(id) ?? [...parameters.values()].find(p => p.name === id)
      if (parameter === undefined) throw new AwsError('ParameterNotFound', `Parameter ${id} not found.`)
      // Without WithDecryption, SSM returns a SecureString's KMS ciphertext, not its value.
      const decrypt = input.WithDecryption === true || parameter.type !== 'SecureString'
      const value = decrypt ? parameter.value : Buffer.from(`kms-ciphertext:${randomUUID()}`).toString('base64')
      return { Parameter: { Name: parameter.name, Type: parameter.type, Value: value, Version: 1, ARN: parameter.arn, DataType: 'text' } }
    }
  })

  return {
    secretsManager,
    ssm,
    putSecret (name, value) {
      const arn = `arn:aws:secretsmanager:${TEST_REGION}:${TEST_ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`
      secrets.set(arn, { arn, name, value, versionId: randomUUID() })
      return arn
    },
    putParameter (name, value, type = 'SecureString') {
      const path = name.startsWith('/') ? name.slice(1) : name
      const arn = `arn:aws:ssm:${TEST_REGION}:${TEST_ACCOUNT}:parameter/${path}`
      parameters.set(arn, { arn, name, value, type })
      return arn
    },
    secretsManagerClient: (region = TEST_REGION) => new SecretsManagerClient({ endpoint: secretsManager.endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
    ssmClient: (region = TEST_REGION) => new SSMClient({ endpoint: ssm.endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
    close: async () => { await Promise.all([secretsManager.close(), ssm.close()]) }
  }
}
