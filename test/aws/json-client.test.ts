// The JSON-protocol client the Lambda uses instead of the AWS SDK's clients (src/aws/json-client.ts), against
// real parts: DynamoDB as the embedded emulator (dynalite) and as moto, KMS and Secrets Manager as moto; the
// faults AWS produces and the emulators do not (throttling, 5xx) injected by test/support/aws-proxy.ts, and
// the network's own (refused, reset, silent) by loopback servers. What it must keep from the SDK: errors
// named by the service's error type with the HTTP status, retries with backoff on throttling, 5xx and dropped
// connections only, a bound on each attempt, abort, and no credential in anything it throws.
import t, { type Test } from 'tap'
import { createPublicKey, createHash, verify } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { CreateKeyCommand, GetPublicKeyCommand } from '@aws-sdk/client-kms'
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager'
import { AwsJsonClient, AwsServiceError, DYNAMODB, KMS, SECRETS_MANAGER, defaultEndpoint, type AwsJsonClientOptions } from '../../src/aws/json-client.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { ensureTable } from '../../src/store/table.ts'
import { startTestStore } from '../support/store.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'
import { emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'

const CREDENTIALS = { accessKeyId: 'AKIDGATEHOUSETEST', secretAccessKey: 'secret-that-must-never-show-up', sessionToken: 'session-token-that-must-never-show-up' }
const REGION = 'us-east-1'

function client (service: typeof DYNAMODB, endpoint: string, options: Partial<AwsJsonClientOptions> = {}): AwsJsonClient {
  const made = new AwsJsonClient(service, { region: REGION, endpoint, credentials: CREDENTIALS, attemptTimeoutMs: 2000, maxAttempts: 3, random: () => 0, ...options })
  t.teardown(() => made.destroy())
  return made
}

/** What a caller (or a log line) could see of an error: nothing that signs requests. */
function assertNoSecrets (t: Test, err: unknown): void {
  const seen = inspect(err, { depth: 10, showHidden: true }) + JSON.stringify(err) + String((err as Error).stack)
  t.notMatch(seen, CREDENTIALS.secretAccessKey, 'no secret key')
  t.notMatch(seen, CREDENTIALS.sessionToken, 'no session token')
  t.notMatch(seen, /Signature=/, 'no signature')
}

async function listen (server: Server): Promise<string> {
  const sockets = new Set<Socket>()
  server.on('connection', socket => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { for (const socket of sockets) socket.destroy(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const rejection = async (promise: Promise<unknown>): Promise<AwsServiceError> => await promise.then(() => { throw new Error('expected a rejection') }, (err: unknown) => err as AwsServiceError)

t.test('default endpoints: the region\'s public endpoint, .com.cn in China', async t => {
  t.equal(defaultEndpoint(DYNAMODB, 'eu-west-1'), 'https://dynamodb.eu-west-1.amazonaws.com')
  t.equal(defaultEndpoint(KMS, 'cn-north-1'), 'https://kms.cn-north-1.amazonaws.com.cn')
  t.equal(defaultEndpoint(SECRETS_MANAGER, 'us-east-1'), 'https://secretsmanager.us-east-1.amazonaws.com')
})

t.test('DynamoDB (dynalite behind the counting proxy): items round-trip; a failed condition is ConditionalCheckFailedException, 400, not retried', async t => {
  const { endpoint, table } = await startTestStore(t)
  const proxy = await startAwsProxy(endpoint)
  t.teardown(() => proxy.close())
  const dynamo = client(DYNAMODB, proxy.endpoint)
  const item = { pk: { S: 'k#é✓' }, sk: { S: 's' }, n: { N: '1.5' }, l: { L: [{ NULL: true }, { BOOL: false }] }, m: { M: { x: { SS: ['a', 'b'] } } } }
  await dynamo.send('PutItem', { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })
  const out = await dynamo.send<{ Item: unknown }>('GetItem', { TableName: table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true })
  t.same(out.Item, item)
  const before = proxy.calls.PutItem ?? 0
  const err = await rejection(dynamo.send('PutItem', { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }))
  t.equal(err.name, 'ConditionalCheckFailedException')
  t.equal(err.$metadata.httpStatusCode, 400)
  t.equal((proxy.calls.PutItem ?? 0) - before, 1, 'not retried')
  const missing = await rejection(dynamo.send('DescribeTable', { TableName: 'no-such-table' }))
  t.equal(missing.name, 'ResourceNotFoundException')
  const invalid = await rejection(dynamo.send('GetItem', { TableName: table, Key: {} }))
  t.equal(invalid.name, 'ValidationException', 'our own bug stays visible, not retried')
  assertNoSecrets(t, err)
})

t.test('throttling and 5xx are retried with backoff, up to maxAttempts; then the last error', async t => {
  const { endpoint, table } = await startTestStore(t)
  const proxy = await startAwsProxy(endpoint)
  t.teardown(() => proxy.close())
  const key = { pk: { S: 'absent' }, sk: { S: 'absent' } }
  // random() = 1: the full backoff, 500 ms for a first throttling retry (100 ms for other errors).
  const patient = client(DYNAMODB, proxy.endpoint, { random: () => 1 })
  proxy.fail('GetItem', { type: 'ProvisionedThroughputExceededException' }, 1)
  let started = performance.now()
  await patient.send('GetItem', { TableName: table, Key: key })
  t.equal(proxy.calls.GetItem, 2, 'answered on the second attempt')
  t.ok(performance.now() - started >= 450, `waited ${Math.round(performance.now() - started)} ms before retrying a throttled call`)
  proxy.fail('GetItem', { type: 'InternalServerError', status: 500 }, 2)
  started = performance.now()
  await patient.send('GetItem', { TableName: table, Key: key })
  t.equal(proxy.calls.GetItem, 5, 'two 500s, then an answer')
  t.ok(performance.now() - started >= 280, 'backed off 100 then 200 ms')
  proxy.fail('GetItem', { type: 'ThrottlingException' }, 3)
  const err = await rejection(client(DYNAMODB, proxy.endpoint).send('GetItem', { TableName: table, Key: key }))
  t.equal(err.name, 'ThrottlingException')
  t.equal(err.$metadata.attempts, 3)
  t.equal(proxy.calls.GetItem, 8, 'three attempts, no more')
  proxy.fail('GetItem', { type: 'AccessDeniedException' }, 1)
  t.equal((await rejection(client(DYNAMODB, proxy.endpoint).send('GetItem', { TableName: table, Key: key }))).name, 'AccessDeniedException')
  t.equal(proxy.calls.GetItem, 9, 'a refusal is not retried')
  assertNoSecrets(t, err)
})

t.test('the network: refused and reset connections are retried; a silent endpoint is cut off after attemptTimeoutMs per attempt', async t => {
  let connections = 0
  const reset = await listen(createServer(socket => { connections++; socket.resetAndDestroy() }))
  const err = await rejection(client(DYNAMODB, reset, { maxAttempts: 2 }).send('GetItem', {}))
  t.equal(err.name, 'ECONNRESET')
  t.equal(connections, 2, 'retried once')
  t.equal(err.$metadata.httpStatusCode, undefined)
  assertNoSecrets(t, err)

  const silent = createServer(socket => { socket.on('error', () => {}) })
  const silentUrl = await listen(silent)
  const started = performance.now()
  const timeout = await rejection(client(DYNAMODB, silentUrl, { maxAttempts: 2, attemptTimeoutMs: 200 }).send('GetItem', {}))
  const ms = performance.now() - started
  t.equal(timeout.name, 'TimeoutError')
  t.ok(ms >= 380 && ms < 1500, `two attempts of 200 ms: ${Math.round(ms)} ms`)
  assertNoSecrets(t, timeout)

  const closed = createServer()
  const closedUrl = await listen(closed)
  await new Promise(resolve => closed.close(resolve))
  t.equal((await rejection(client(DYNAMODB, closedUrl, { maxAttempts: 1 }).send('GetItem', {}))).name, 'ECONNREFUSED')
})

t.test('an abort stops the call at once, within an attempt or a backoff', async t => {
  const silent = createServer(socket => { socket.on('error', () => {}) })
  const url = await listen(silent)
  const controller = new AbortController()
  const started = performance.now()
  setTimeout(() => controller.abort(new Error('deadline')), 100)
  const err = await rejection(client(DYNAMODB, url, { attemptTimeoutMs: 5000 }).send('GetItem', {}, { abortSignal: controller.signal }))
  t.equal(err.message, 'deadline')
  t.ok(performance.now() - started < 1000)
})

const unavailable = await emulatorUnavailable({ moto: true })
t.test('against moto: KMS blobs (Sign, GenerateDataKey, Decrypt), Secrets Manager, DynamoDB', { skip: unavailable ?? false }, async t => {
  const aws = await startAwsEmulator({ moto: true })
  t.teardown(() => aws.stop())
  const admin = aws.kms()
  const signing = (await admin.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!
  const encryption = (await admin.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.KeyId!
  const kms = client(KMS, aws.endpoint)
  const data = Buffer.from('header.payload')
  const signed = await kms.send<{ Signature: Uint8Array }>('Sign', { KeyId: signing, Message: createHash('sha256').update(data).digest(), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })
  t.type(signed.Signature, Uint8Array, 'a blob comes back as bytes, as from the SDK')
  const publicKey = (await admin.send(new GetPublicKeyCommand({ KeyId: signing }))).PublicKey!
  t.ok(verify('RSA-SHA256', data, createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' }), signed.Signature), 'the signature verifies with the key\'s public key')
  const context = { 'gatehouse:context': 'grant:g1' }
  const dataKey = await kms.send<{ Plaintext: Uint8Array, CiphertextBlob: Uint8Array }>('GenerateDataKey', { KeyId: encryption, KeySpec: 'AES_256', EncryptionContext: context })
  t.equal(dataKey.Plaintext.length, 32)
  const decrypted = await kms.send<{ Plaintext: Uint8Array }>('Decrypt', { KeyId: encryption, CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context })
  t.same(Buffer.from(decrypted.Plaintext), Buffer.from(dataKey.Plaintext))
  const refused = await rejection(kms.send('Decrypt', { KeyId: encryption, CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { 'gatehouse:context': 'grant:g2' } }))
  t.equal(refused.name, 'InvalidCiphertextException')
  assertNoSecrets(t, refused)

  const arn = (await aws.secretsManager().send(new CreateSecretCommand({ Name: 'gatehouse-json-client', SecretString: 'the-value' }))).ARN!
  const secrets = client(SECRETS_MANAGER, aws.endpoint)
  t.equal((await secrets.send<{ SecretString: string }>('GetSecretValue', { SecretId: arn })).SecretString, 'the-value')
  t.equal((await rejection(secrets.send('GetSecretValue', { SecretId: `${arn}-missing` }))).name, 'ResourceNotFoundException')

  const sdk = createDynamoClient({ region: aws.region, endpoint: aws.endpoint })
  t.teardown(() => sdk.destroy())
  await ensureTable(sdk, 'gatehouse-moto')
  const dynamo = client(DYNAMODB, aws.endpoint)
  const item = { pk: { S: 'a' }, sk: { S: 'b' }, v: { N: '2' } }
  await dynamo.send('PutItem', { TableName: 'gatehouse-moto', Item: item, ConditionExpression: 'attribute_not_exists(pk)' })
  t.same((await dynamo.send<{ Item: unknown }>('GetItem', { TableName: 'gatehouse-moto', Key: { pk: item.pk, sk: item.sk } })).Item, item)
  t.equal((await rejection(dynamo.send('PutItem', { TableName: 'gatehouse-moto', Item: item, ConditionExpression: 'attribute_not_exists(pk)' }))).name, 'ConditionalCheckFailedException')
})
