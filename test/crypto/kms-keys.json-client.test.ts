// test/crypto/kms-keys.test.ts again, with KMS reached through the Lambda's JSON client (src/aws/json-client.ts) instead of the SDK's.
import t from 'tap'
import { AwsJsonClient } from '../../src/aws/json-client.ts'

process.env.TEST_KMS_CLIENT = 'json'
const { kmsClientAt } = await import('../support/kms-client.ts')
t.ok(kmsClientAt('http://127.0.0.1:1', 'us-east-1') instanceof AwsJsonClient, 'the adapters under test are on the JSON client')
await import('./kms-keys.test.ts')
