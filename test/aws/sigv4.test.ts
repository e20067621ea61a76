// SigV4 for the JSON client's requests (a POST to `/` with no query string): AWS's published test suite
// (aws-sig-v4-test-suite, 2015-08-30, service "service") and, for JSON bodies, session tokens and header
// forms the suite does not cover, the AWS SDK's own signer (@smithy/signature-v4) as the reference.
import t from 'tap'
import { createHash, createHmac } from 'node:crypto'
import fc from 'fast-check'
import { SignatureV4 } from '@smithy/signature-v4'
import { amzDate, signPost } from '../../src/aws/sigv4.ts'

const SUITE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const SUITE_DATE = new Date('2015-08-30T12:36:00Z')

t.test('amzDate: the ISO 8601 basic form, no milliseconds', async t => {
  t.equal(amzDate(new Date('2015-08-30T12:36:00.123Z')), '20150830T123600Z')
})

t.test('the suite\'s POST cases', async t => {
  const vanilla = signPost({ host: 'example.amazonaws.com', headers: {}, body: '' }, SUITE, 'us-east-1', 'service', SUITE_DATE)
  t.equal(vanilla.authorization, 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b', 'post-vanilla')
  t.equal(vanilla['x-amz-date'], '20150830T123600Z')
  t.equal(vanilla.host, 'example.amazonaws.com')
  const form = signPost({ host: 'example.amazonaws.com', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'Param1=value1' }, SUITE, 'us-east-1', 'service', SUITE_DATE)
  t.equal(form.authorization, 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a', 'post-x-www-form-urlencoded (a header name in mixed case)')
})

t.test('the suite\'s signing key for iam on 2015-08-30 (the derivation, step by step)', async t => {
  // The documented example: kSecret → kDate → kRegion → kService → kSigning.
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest()
  const key = hmac(hmac(hmac(hmac(`AWS4${SUITE.secretAccessKey}`, '20150830'), 'us-east-1'), 'iam'), 'aws4_request')
  t.equal(key.toString('hex'), 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9')
  // And signPost uses that chain: the empty-body hash is the suite's e3b0…b855.
  t.equal(createHash('sha256').update('').digest('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
})

/** The SDK signer's Authorization for the same request. */
async function sdkAuthorization (host: string, headers: Record<string, string>, body: string, credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }, region: string, service: string, now: Date): Promise<string> {
  type Data = string | ArrayBuffer | ArrayBufferView
  const bytes = (data: Data): string | Buffer => typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data)
  class Sha256 {
    readonly #hash
    constructor (secret?: Data) { this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret)) }
    update (data: Data): void { this.#hash.update(bytes(data)) }
    async digest (): Promise<Uint8Array> { return new Uint8Array(this.#hash.digest()) }
  }
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: false })
  const signed = await signer.sign({ method: 'POST', protocol: 'https:', hostname: host, path: '/', headers: { ...headers, host }, body, query: {} }, { signingDate: now })
  return signed.headers.authorization as string
}

t.test('the same Authorization as the AWS SDK\'s signer: JSON bodies, session tokens, header values with runs of white space', async t => {
  const ours = (host: string, headers: Record<string, string>, body: string, credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }, region: string, service: string, now: Date): string =>
    signPost({ host, headers, body }, credentials, region, service, now).authorization as string
  const fixed = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' }
  const credentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret/with+chars', sessionToken: 'IQoJb3JpZ2luX2VjEAAaCXVzLWVhc3QtMSJH//////////wEaDEXAMPLE=' }
  const now = new Date('2026-12-07T18:00:00Z')
  const body = JSON.stringify({ TableName: 'gatehouse', Key: { pk: { S: 'grant#é✓' }, sk: { S: 'grant' } }, ConsistentRead: true })
  t.equal(ours('dynamodb.eu-west-1.amazonaws.com', fixed, body, credentials, 'eu-west-1', 'dynamodb', now), await sdkAuthorization('dynamodb.eu-west-1.amazonaws.com', fixed, body, credentials, 'eu-west-1', 'dynamodb', now))
  await fc.assert(fc.asyncProperty(
    fc.string({ maxLength: 200 }), fc.string({ minLength: 1, maxLength: 40 }), fc.option(fc.base64String({ minLength: 4, maxLength: 80 }), { nil: undefined }),
    fc.constantFrom('kms', 'dynamodb', 'secretsmanager'), fc.constantFrom('us-east-1', 'eu-central-1', 'cn-north-1'),
    fc.stringMatching(/^[ a-zA-Z0-9.-]{1,30}$/), fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
    async (body, secret, sessionToken, service, region, target, date) => {
      const now = new Date(Math.floor(date.getTime() / 1000) * 1000)
      const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret, ...(sessionToken === undefined ? {} : { sessionToken }) }
      const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': ` ${target}  x ` }
      const host = `${service}.${region}.amazonaws.com`
      return ours(host, headers, body, credentials, region, service, now) === await sdkAuthorization(host, headers, body, credentials, region, service, now)
    }), { numRuns: 200 })
})

t.test('a session token is sent and signed; without one, no such header', async t => {
  const withToken = signPost({ host: 'kms.us-east-1.amazonaws.com', headers: {}, body: '{}' }, { ...SUITE, sessionToken: 'token' }, 'us-east-1', 'kms', SUITE_DATE)
  t.equal(withToken['x-amz-security-token'], 'token')
  t.match(withToken.authorization, /SignedHeaders=host;x-amz-date;x-amz-security-token,/)
  const without = signPost({ host: 'kms.us-east-1.amazonaws.com', headers: {}, body: '{}' }, SUITE, 'us-east-1', 'kms', SUITE_DATE)
  t.notOk('x-amz-security-token' in without)
})
