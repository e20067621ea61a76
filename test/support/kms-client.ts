// The KMS client the crypto adapters under test get: the SDK's (default), or with TEST_KMS_CLIENT=json the
// JSON client the Lambda uses (src/aws/json-client.ts, as src/crypto/index.ts builds it with credentials).
// The *.json-client.test.ts files set it and run a KMS test file again, so both clients pass the same tests.
import { KMSClient } from '@aws-sdk/client-kms'
import { AwsJsonClient, KMS } from '../../src/aws/json-client.ts'
import type { KmsApi } from '../../src/crypto/kms-keys.ts'
import { EMULATOR_CREDENTIALS } from './aws-emulator.ts'

export const KMS_CLIENT: 'sdk' | 'json' = process.env.TEST_KMS_CLIENT === 'json' ? 'json' : 'sdk'

/** One attempt (the tests count requests at the proxy), at `endpoint`. */
export function kmsClientAt (endpoint: string, region: string): KMSClient | KmsApi {
  if (KMS_CLIENT === 'json') return new AwsJsonClient(KMS, { region, endpoint, credentials: EMULATOR_CREDENTIALS, attemptTimeoutMs: 5000, maxAttempts: 1 })
  return new KMSClient({ endpoint, region, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 })
}
