// Defect 10 of the outside review: the store is a choice (GATEHOUSE_STORE), and a choice that contradicts
// the endpoints is refused at start, instead of an embedded store starting while AWS calls go elsewhere.
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'

const LAMBDA = {
  AWS_LAMBDA_FUNCTION_NAME: 'gatehouse',
  GATEHOUSE_PUBLIC_URL: 'https://mcp.example.com',
  UPSTREAM_ISSUER: 'https://idp.example.com',
  UPSTREAM_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
  KMS_SIGNING_KEY_ID: 'k1',
  KMS_ENCRYPTION_KEY_ID: 'k2',
  COOKIE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:c'
}

t.test('unset: embedded locally, DynamoDB on Lambda or when an endpoint is set', async t => {
  t.match(loadConfig({}).store, { embedded: true, endpoint: undefined })
  t.match(loadConfig(LAMBDA).store, { embedded: false, endpoint: undefined })
  t.match(loadConfig({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4566' }).store, { embedded: false, endpoint: 'http://127.0.0.1:4566' })
  // The case the review found: AWS_ENDPOINT_URL alone used to start the embedded store while KMS went to the endpoint.
  t.match(loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).store, { embedded: false, endpoint: 'http://127.0.0.1:5000' })
  t.match(loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' }).store, { endpoint: 'http://127.0.0.1:8000' }, 'the service endpoint wins')
})

t.test('explicit: GATEHOUSE_STORE decides, and a contradiction is a start-up error naming both settings', async t => {
  t.match(loadConfig({ GATEHOUSE_STORE: 'dynamodb' }).store, { embedded: false, endpoint: undefined, region: 'us-east-1' })
  t.match(loadConfig({ GATEHOUSE_STORE: 'embedded', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).store, { embedded: true, endpoint: undefined }, 'embedded on purpose while KMS uses the general endpoint')
  t.throws(() => loadConfig({ GATEHOUSE_STORE: 'embedded', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' }), { name: 'ConfigError', message: /GATEHOUSE_STORE: embedded contradicts AWS_ENDPOINT_URL_DYNAMODB/ })
  t.throws(() => loadConfig({ ...LAMBDA, GATEHOUSE_STORE: 'embedded' }), { message: /GATEHOUSE_STORE: embedded is for local runs/ })
  t.throws(() => loadConfig({ GATEHOUSE_STORE: 'sqlite' }), ConfigError)
})
