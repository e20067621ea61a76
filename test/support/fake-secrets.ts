// A hand-written stand-in for the AWS Secrets Manager service: a loopback server speaking its JSON 1.1
// protocol (secretsmanager.GetSecretValue, by name or ARN).
//
// No test uses it (issue 16): tests read secrets from the real emulator (moto: aws-emulator.ts, which serves
// Secrets Manager and SSM, SecureString decryption and reads by ARN included; aws-proxy.ts counts reads).
// Its one remaining user, and the only reason it is kept: scripts/bench-cold-start.ts (the speed
// engineer's) reads the function's cookie and upstream client secrets from it in the Lambda configuration,
// next to fake-kms.ts, so that the cold start it measures is gatehouse's and not moto's answer times (about
// 13 ms per KMS Decrypt on this machine) nor a Python dependency; see fake-kms.ts. The SSM Parameter Store
// stand-in that was here is gone: nothing used it any more. Delete this file with fake-kms.ts.
import { randomUUID } from 'node:crypto'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { AwsError, startAwsJsonServer, TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, type AwsJsonServer } from './fake-kms.ts'

export interface FakeSecrets {
  secretsManager: AwsJsonServer
  /** Stores a secret string; returns its ARN (with the random suffix Secrets Manager adds). */
  putSecret (name: string, value: string): string
  secretsManagerClient (region?: string): SecretsManagerClient
  close (): Promise<void>
}

export async function startFakeSecrets (): Promise<FakeSecrets> {
  const secrets = new Map<string, { arn: string, name: string, value: string, versionId: string }>()

  const secretsManager = await startAwsJsonServer('secretsmanager', {
    GetSecretValue (input) {
      const id = String(input.SecretId ?? '')
      const secret = secrets.get(id) ?? [...secrets.values()].find(s => s.name === id)
      if (secret === undefined) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
      return { ARN: secret.arn, Name: secret.name, SecretString: secret.value, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'], CreatedDate: Math.floor(Date.now() / 1000) }
    }
  })

  return {
    secretsManager,
    putSecret (name, value) {
      const arn = `arn:aws:secretsmanager:${TEST_REGION}:${TEST_ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`
      secrets.set(arn, { arn, name, value, versionId: randomUUID() })
      return arn
    },
    secretsManagerClient: (region = TEST_REGION) => new SecretsManagerClient({ endpoint: secretsManager.endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 }),
    close: () => secretsManager.close()
  }
}
