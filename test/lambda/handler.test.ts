// The bundled Lambda handler (dist/lambda/index.cjs from `npm run build`), loaded with require() in a fresh
// Node process exactly as the nodejs22.x runtime would (its Node flags included), invoked with API Gateway
// HTTP API payload 2.0 events. KMS is a real AWS emulator (moto, test/support/aws-emulator.ts; the test that
// needs it is skipped, and counted as skipped, without moto); DynamoDB is the embedded emulator.
import t from 'tap'
import { inflateRawSync } from 'node:zlib'
import { readFile, rm } from 'node:fs/promises'
import { bundle } from '../../scripts/bundle.ts'
import { httpApiEvent } from '../../scripts/http-api-event.ts'
import { startTestStore } from '../support/store.ts'
import { RUNTIME_FLAGS, invokeBundle } from '../support/lambda-runtime.ts'
import { lambdaNodeFlags } from '../../scripts/code-cache.ts'
import { createPublicKey } from 'node:crypto'
import { CreateKeyCommand, GetPublicKeyCommand } from '@aws-sdk/client-kms'
import { EMULATOR_CREDENTIALS, emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'

const PUBLIC_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com'

const event = (method: string, rawPath: string, headers: Record<string, string> = {}, body?: string): Record<string, unknown> => httpApiEvent(PUBLIC_URL, method, rawPath, headers, body)

const unavailable = await emulatorUnavailable({ moto: true })
// A build from scratch (an earlier build's cache would be kept: see the rebuild test below).
await rm(new URL('../../dist/lambda', import.meta.url), { recursive: true, force: true })
const built = await bundle()

/** The names and contents of a zip's entries (the build writes deflated entries only). */
function unzip (zip: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (let at = 0; zip.readUInt32LE(at) === 0x04034b50;) {
    const size = zip.readUInt32LE(at + 18)
    const nameLength = zip.readUInt16LE(at + 26)
    const name = zip.subarray(at + 30, at + 30 + nameLength).toString()
    const start = at + 30 + nameLength + zip.readUInt16LE(at + 28)
    files.set(name, inflateRawSync(zip.subarray(start, start + size)))
    at = start + size
  }
  return files
}

t.test('the zip holds the entry, the bundle and a code cache built for the runtime\'s flags', async t => {
  // The issue's budget. It was 360 KB for a while after the gateway (issue 14); typebox imported as a namespace (which esbuild
  // tree-shakes) and one copy of fast-uri brought the bundle back under it (issue 17, BENCHMARKS.md).
  t.ok(built.gzipBytes <= 350 * 1024, `bundle is ${(built.gzipBytes / 1024).toFixed(0)} KB gzip (target ≤ 350 KB)`)
  const files = unzip(await readFile(built.zipPath))
  t.same([...files.keys()], ['index.cjs', 'app.cjs', 'app.cjs.cache', 'app.cjs.cache.json'])
  t.same(files.get('app.cjs'), await readFile(built.appPath), 'the zipped bundle is the built one')
  const fingerprint = JSON.parse(files.get('app.cjs.cache.json')?.toString() ?? '{}')
  t.same(fingerprint.execArgv, RUNTIME_FLAGS, 'built under the nodejs22.x runtime\'s flags for the default memory size')
  t.equal(fingerprint.arch, 'x64', 'for the default x86_64 function (this host is x86_64 Linux)')
})

t.test('rebuilding an unchanged bundle keeps its code cache, so the zip (and Terraform\'s source_code_hash) does not change', async t => {
  const zipBefore = await readFile(built.zipPath)
  const again = await bundle()
  t.match(again.codeCache, { built: true, reused: true })
  t.same(await readFile(again.zipPath), zipBefore, 'byte-identical zip')
})

t.test('the bundled handler answers API Gateway HTTP API v2 events', { skip: unavailable === undefined ? false : `no AWS emulator (${unavailable})` }, async t => {
  const store = await startTestStore(t)
  const aws = await startAwsEmulator({ moto: true })
  t.teardown(() => aws.stop())
  const kms = aws.kms()
  const signing = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!
  const encryption = (await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.KeyId!
  const env = {
    AWS_LAMBDA_FUNCTION_NAME: 'gatehouse',
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
    GATEHOUSE_TABLE: store.table,
    AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
    AWS_ENDPOINT_URL_KMS: aws.endpoint,
    KMS_SIGNING_KEY_ID: signing,
    KMS_ENCRYPTION_KEY_ID: encryption,
    COOKIE_SECRET: 'a-cookie-secret-of-at-least-32-characters!',
    UPSTREAM_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
    UPSTREAM_CLIENT_ID: 'client',
    UPSTREAM_CLIENT_SECRET: 'upstream-secret',
    LOG_LEVEL: 'silent'
  }
  const answers = await invokeBundle(built.bundlePath, env, [
    event('GET', '/.well-known/oauth-protected-resource/mcp'),
    event('POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'),
    event('GET', '/jwks.json'),
    // A rate-limited route, exercising the bundle's key generator (and not the shimmed default one).
    event('POST', '/register', { 'content-type': 'application/json' }, JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }))
  ])
  const [prm, mcp, jwks, registered] = answers
  t.equal(answers.codeCache, 'accepted', 'V8 took the shipped code cache')
  t.equal(answers.stderr, '', 'no warning')
  t.equal(registered?.statusCode, 201, 'registration works in the bundle (rate limiting included)')
  // KMS GetPublicKey at start and the registration's DynamoDB write went through src/aws/json-client.ts (issue 17).
  t.same(answers.awsSdkClients, [], 'no AWS SDK client loaded: the role credentials in the environment select the JSON client')
  t.equal(prm?.statusCode, 200)
  t.match(prm?.headers['content-type'], /application\/json/)
  t.equal(JSON.parse(prm?.body ?? '{}').resource, `${PUBLIC_URL}/mcp`)
  t.equal(mcp?.statusCode, 401)
  t.equal(mcp?.headers['www-authenticate'], `Bearer scope="mcp:read mcp:write", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"`)
  const keys = JSON.parse(jwks?.body ?? '{}').keys
  t.equal(keys.length, 1, 'the KMS signing key is published')
  const kmsKey = createPublicKey({ key: Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: signing }))).PublicKey!), format: 'der', type: 'spki' }).export({ format: 'jwk' })
  t.match(keys[0], { kty: 'RSA', n: kmsKey.n, e: kmsKey.e }, 'the published key is the KMS key\'s public key (GetPublicKey at start)')
})

t.test('under other flags (another memory size) the cache is rejected with one warning, and the bundle still answers', async t => {
  const store = await startTestStore(t)
  const answers = await invokeBundle(built.bundlePath, {
    AWS_LAMBDA_FUNCTION_NAME: 'gatehouse', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret',
    GATEHOUSE_PUBLIC_URL: PUBLIC_URL, GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: 'https://issuer.example', TRUSTED_AUDIENCES: 'app',
    GATEHOUSE_TABLE: store.table, AWS_ENDPOINT_URL_DYNAMODB: store.endpoint, LOG_LEVEL: 'warn'
  }, [event('GET', '/.well-known/oauth-protected-resource')], lambdaNodeFlags(2048))
  t.equal(answers.codeCache, 'rejected')
  t.equal(answers[0]?.statusCode, 200)
  const warning = JSON.parse(answers.stderr?.split('\n')[0] ?? '{}')
  t.match(warning, { level: 40, codeCache: 'rejected', msg: /code cache rejected/ })
  t.match(warning.builtFor, /--max-old-space-size=922/)
  t.match(warning.runningOn, /--max-old-space-size=1844/, 'the warning shows what the cache was built for and what runs')
})

t.test('the bundle refuses to start in Lambda without KMS keys (no local keys on AWS)', async t => {
  await t.rejects(invokeBundle(built.bundlePath, { AWS_LAMBDA_FUNCTION_NAME: 'gatehouse', GATEHOUSE_PUBLIC_URL: PUBLIC_URL, UPSTREAM_ISSUER: 'https://issuer.example', LOG_LEVEL: 'silent' }, [event('GET', '/healthz')]), /KMS_SIGNING_KEY_ID/)
})

t.test('resource-server mode starts in Lambda without keys of its own and names the trusted issuer', async t => {
  const store = await startTestStore(t)
  const issuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example'
  const [prm, mcp, metadata] = await invokeBundle(built.bundlePath, {
    AWS_LAMBDA_FUNCTION_NAME: 'gatehouse', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret',
    GATEHOUSE_PUBLIC_URL: PUBLIC_URL, GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: issuer, TRUSTED_AUDIENCES: 'app-client-id',
    GATEHOUSE_TABLE: store.table, AWS_ENDPOINT_URL_DYNAMODB: store.endpoint, LOG_LEVEL: 'silent'
  }, [
    event('GET', '/.well-known/oauth-protected-resource'),
    event('POST', '/mcp', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer not-a-jwt' }, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'),
    event('GET', '/.well-known/oauth-authorization-server')
  ])
  t.same(JSON.parse(prm?.body ?? '{}').authorization_servers, [issuer])
  t.equal(mcp?.statusCode, 401)
  t.match(mcp?.headers['www-authenticate'], /error="invalid_token"/)
  t.equal(metadata?.statusCode, 404, 'no authorization server endpoints in resource-server mode')
})
