// test/store/single-use.test.ts again, with the store on the Lambda's JSON client (src/aws/json-client.ts) instead of the SDK's.
import t from 'tap'
import { AwsJsonClient } from '../../src/aws/json-client.ts'

process.env.TEST_STORE_CLIENT = 'json'
const { storeClient } = await import('../support/store.ts')
const probe = storeClient('http://127.0.0.1:1')
t.ok(probe.client instanceof AwsJsonClient, 'the stores under test are on the JSON client')
probe.destroy()
await import('./single-use.test.ts')
