// `npm run bench:cold-start`: Lambda cold start, measured as a ratio against a bare Node start in the same
// run (this machine is shared and noisy; absolute times are not stable). Each sample is a fresh process that
// require()s the bundle (as the nodejs22.x runtime does), sends one `tools/call whoami` event with a real
// RS256 token through the handler, prints the answer and exits; the baseline is `node -e ''`.
//
// Two configurations, interleaved sample by sample so machine load hits both alike:
// - lambda: as the function runs on AWS. AWS_LAMBDA_FUNCTION_NAME is set (config's Lambda rules apply),
//   keys come from KMS (the loopback stand-in test/support/fake-kms.ts; public keys delivered in
//   KMS_SIGNING_PUBLIC_KEYS, as Terraform does), and, with role credentials in the environment as on AWS,
//   DynamoDB, KMS and Secrets Manager are reached through src/aws/json-client.ts (no SDK client is loaded;
//   the Lambda never runs ensureTable). The token is signed by the KMS key.
// - local: local keys under a temp dir and AWS_ENDPOINT_URL_DYNAMODB (which makes openStore ensure the table).
// The stand-ins' network round trips are loopback; real KMS/DynamoDB calls add their latency on AWS.
// - lambda-nocache: the lambda configuration with the code cache left out of the bundle directory, i.e. the
//   bundle compiled from source as before the cache existed (and as when a cache does not fit the runtime).
// - plain: the lambda configuration, but every process (its baseline too) without the runtime's flags,
//   with a code cache built for no flags: the issue's literal `node -e` comparison.
// The other modes and their baseline run with the Node flags the nodejs22.x runtime starts the function
// with (heap sizes from LAMBDA_MEMORY_SIZE, scripts/code-cache.ts), which the shipped code cache is built
// for. Those heap flags also make Node reject its own built-in code cache for its internal modules, so under
// them every `require('node:http')` & co. compiles from source: the flagged baseline hides that cost, since
// `node -e ''` loads almost no internal modules.
// - floor (issue 17): the smallest Lambda any user of the required packages would write (scripts/cold-start-floor.ts:
//   Fastify + @fastify/aws-lambda + @aws-sdk/client-dynamodb answering POST /mcp after one GetItem), bundled
//   with the function's esbuild settings, AWS SDK left to the runtime, no code cache, under the runtime's flags.
//   The targets are ratios to it: lambda (POST /mcp tools/call) ≤ 0.75×, authorize and token ≤ 1.0×.
// - authorize: the lambda configuration's first GET /authorize (a registered public client, PKCE; the consent page).
// - token: the lambda configuration's first POST /token, an authorization_code exchange (a fresh code per sample:
//   the code's single-use write that returns it, KMS Sign, the grant with its refresh token).
// BENCH_BASELINE_BUNDLE=<dir>/dist/lambda/index.cjs (another build, e.g. a worktree of the previous commit)
// adds its lambda, authorize and token configurations as base-lambda, base-authorize, base-token, interleaved
// with this build's: an A/B of two builds within one run. Several builds: label=path,label=path (modes
// <label>-lambda, <label>-authorize, <label>-token).
// BENCH_SAMPLES (default 15) sets the number of samples; BENCH_CHILD_ARGS adds node flags to the measured
// children (e.g. "--cpu-prof --cpu-prof-dir=.prof"); BENCH_MODES=floor,lambda,authorize,token (the default),
// lambda-kms-at-start (no KMS_SIGNING_PUBLIC_KEYS), lambda-env-secrets, lambda-nocache, plain, local picks configurations.
import { spawn } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { build as esbuild } from 'esbuild'
import { bundle, COMMON } from './bundle.ts'
import { buildCodeCache, codeCacheTarget, lambdaNodeFlags } from './code-cache.ts'
import { httpApiEvent } from './http-api-event.ts'
import { startEmbeddedStore } from '../src/store/embedded.ts'
import { DynamoStore } from '../src/store/dynamo-store.ts'
import { createDynamoClient } from '../src/store/dynamo-client.ts'
import { ensureTable } from '../src/store/table.ts'
import { LocalKeySet } from '../src/crypto/local-keys.ts'
import { KmsKeySet } from '../src/crypto/kms-keys.ts'
import { issueAccessToken } from '../src/oauth/access-tokens.ts'
import { s256 } from '../src/oauth/pkce.ts'
import { randomToken, sha256 } from '../src/oauth/secrets.ts'
import { SYSTEM_CLOCK } from '../src/ports/clock.ts'
import type { KeySet } from '../src/ports/keys.ts'
import { startFakeKms, TEST_CREDENTIALS, TEST_REGION } from '../test/support/fake-kms.ts'
import { startFakeSecrets } from '../test/support/fake-secrets.ts'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15)
const CHILD_ARGS = (process.env.BENCH_CHILD_ARGS ?? '').split(' ').filter(Boolean)
const BASELINES: Array<[string, string]> = (process.env.BENCH_BASELINE_BUNDLE ?? '').split(',').filter(Boolean)
  .map(entry => entry.includes('=') ? entry.split('=', 2) as [string, string] : ['base', entry])
const MODES = (process.env.BENCH_MODES ?? ['floor,lambda,authorize,token', ...BASELINES.map(([label]) => `${label}-lambda,${label}-authorize,${label}-token`)].join(',')).split(',').filter(Boolean)
const LAMBDA_FLAGS = lambdaNodeFlags(codeCacheTarget().memorySize)
const flagsOf = (mode: string): string[] => mode === 'plain' ? [] : LAMBDA_FLAGS
const PUBLIC_URL = 'https://bench.example.com'
const TABLE = 'gatehouse-bench'
const UPSTREAM_CLIENT_SECRET = 'bench-upstream-secret'
const CLIENT_ID = 'bench-client'
const REDIRECT_URI = 'http://127.0.0.1:33418/callback'
const VERIFIER = 'bench-verifier-bench-verifier-bench-verifier-0123'
/** What each configuration's first answer must contain. */
const EXPECT: Record<string, string> = { authorize: '200 ', token: '"access_token"' }
const expectOf = (mode: string): string => EXPECT[mode.replace(/^.*-(?=authorize$|token$)/, '')] ?? 'bench@example.com'

// CPU time (user + system) the child reports just before exiting: much less sensitive to the machine's
// other load than wall time, so it is printed next to it.
const CPU_MARK = 'process.stderr.write("\\ncpu-us " + (process.cpuUsage().user + process.cpuUsage().system))'
const cpuOf = (out: string): number => Number(/cpu-us (\d+)/.exec(out)?.[1] ?? NaN) / 1000

const codeCacheStatus: Record<string, Set<string>> = {}
const phases: Record<string, number[][]> = {}

function timeProcess (flags: string[], args: string[], env: Record<string, string | undefined>, expect?: string, cpu?: number[], mode?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, [...flags, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { out += d })
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (code !== 0 || (expect !== undefined && !out.includes(expect))) reject(new Error(`sample failed (exit ${code}): ${out.slice(0, 500)}`))
      else {
        cpu?.push(cpuOf(out))
        const status = /code-cache (\w+)/.exec(out)?.[1]
        if (mode !== undefined && status !== undefined && status !== 'undefined') (codeCacheStatus[mode] ??= new Set()).add(status)
        const marks = /phases ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out)
        if (mode !== undefined && marks !== null) (phases[mode] ??= []).push(marks.slice(1).map(Number))
        resolve(ms)
      }
    })
  })
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number }

function mcpEvent (token: string): Record<string, unknown> {
  return httpApiEvent(PUBLIC_URL, 'POST', '/mcp',
    { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }))
}

function authorizeEvent (): Record<string, unknown> {
  const query = { response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge: s256(VERIFIER), code_challenge_method: 'S256', scope: 'mcp:read', state: 'bench-state' }
  return httpApiEvent(PUBLIC_URL, 'GET', '/authorize', { accept: 'text/html' }, undefined, query)
}

function tokenEvent (code: string): Record<string, unknown> {
  return httpApiEvent(PUBLIC_URL, 'POST', '/token', { 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER, client_id: CLIENT_ID }).toString())
}

function childScript (bundlePath: string, event: unknown): string {
  // Phase marks (ms since the process started): Node ready to run the script, bundle loaded, first answer.
  return `const ready = performance.now(); const { handler, codeCache } = require(${JSON.stringify(bundlePath)}); const loaded = performance.now();
handler(${JSON.stringify(event)}, {}).then(r => { const answered = performance.now(); process.stdout.write(String(r.statusCode) + ' ' + r.body + '\\ncode-cache ' + codeCache + '\\nphases ' + [ready, loaded, answered].map(n => n.toFixed(1)).join(' ')); ${CPU_MARK}; process.exit(0) }, e => { console.error(e); process.exit(1) })`
}

const built = await bundle()
if (!built.codeCache.built) console.log(`note: no code cache (${built.codeCache.reason})`)
/** The entry and the bundle, without the code cache, in a sibling of dist/lambda (the AWS SDK still resolves from node_modules). */
async function copyWithoutCache (name: string): Promise<{ entry: string, app: string }> {
  const dir = join(dirname(dirname(built.bundlePath)), name)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  for (const file of [built.bundlePath, built.appPath]) await copyFile(file, join(dir, basename(file)))
  return { entry: join(dir, basename(built.bundlePath)), app: join(dir, basename(built.appPath)) }
}
const noCacheEntry = (await copyWithoutCache('lambda-nocache')).entry
// The same bundle with a code cache built for a process without the runtime's flags.
const plain = await copyWithoutCache('lambda-plain')
if (MODES.includes('plain')) await buildCodeCache(plain.app, codeCacheTarget(), [])
const plainEntry = plain.entry
// The floor: the function's esbuild settings, the AWS SDK left to the runtime, no code cache.
const floorEntry = join(dirname(dirname(built.bundlePath)), 'lambda-floor', 'index.cjs')
await esbuild({ ...COMMON, entryPoints: [join(import.meta.dirname, 'cold-start-floor.ts')], outfile: floorEntry, external: ['@aws-sdk/*', '@smithy/*'] })
const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-cold-'))
const emulator = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), inLambda: false })
const kms = await startFakeKms()
const secrets = await startFakeSecrets()
try {
  const client = createDynamoClient({ region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs: 3000 })
  await ensureTable(client, TABLE)
  const store = new DynamoStore({ client, table: TABLE, clock: SYSTEM_CLOCK, timeoutMs: 3000 })
  const now = SYSTEM_CLOCK.now()
  const identity = { sub: 'bench-user', email: 'bench@example.com', groups: ['engineering'] }
  await store.saveGrant({ grantId: 'bench-grant', clientId: CLIENT_ID, identity, scope: ['mcp:read'], resource: `${PUBLIC_URL}/mcp`, createdAt: now, expiresAt: now + 3600 })
  await store.saveClient({ clientId: CLIENT_ID, tokenEndpointAuthMethod: 'none', redirectUris: [REDIRECT_URI], grantTypes: ['authorization_code', 'refresh_token'], responseTypes: ['code'], clientName: 'bench', createdAt: now, expiresAt: 0 })
  // One unused authorization code per token sample (and its warm-up): each exchange consumes its own.
  const codes: string[] = []
  for (let i = 0; i < (BASELINES.length + 1) * (SAMPLES + 1); i++) {
    const code = randomToken()
    codes.push(code)
    await store.saveCode({ codeHash: sha256(code), clientId: CLIENT_ID, redirectUri: REDIRECT_URI, codeChallenge: s256(VERIFIER), scope: ['mcp:read'], resource: `${PUBLIC_URL}/mcp`, identity, grantId: `bench-code-grant-${i}-${now}`, createdAt: now, expiresAt: now + 3600 })
  }
  client.destroy()
  const issue = async (keys: KeySet): Promise<string> => (await issueAccessToken({ grantId: 'bench-grant', clientId: CLIENT_ID, identity }, ['mcp:read'], { keys, clock: SYSTEM_CLOCK, issuer: PUBLIC_URL, audience: `${PUBLIC_URL}/mcp`, ttlSeconds: 3600 })).token

  const signing = await kms.createSigningKey()
  const encryption = await kms.createEncryptionKey()
  const kmsClient = new KMSClient({ region: TEST_REGION, endpoint: kms.endpoint, credentials: TEST_CREDENTIALS })
  const kmsToken = await issue(await KmsKeySet.open({ client: kmsClient, currentKeyId: signing.keyId }))
  // What infra/modules/function delivers from Terraform's aws_kms_public_key (base64 DER).
  const signingPublicKey = Buffer.from((await kmsClient.send(new GetPublicKeyCommand({ KeyId: signing.keyId }))).PublicKey!).toString('base64')
  kmsClient.destroy()
  const localToken = await issue(await LocalKeySet.open({ dataDir }))

  const common = { PATH: process.env.PATH, GATEHOUSE_PUBLIC_URL: PUBLIC_URL, GATEHOUSE_TABLE: TABLE, LOG_LEVEL: 'silent', COOKIE_SECRET: 'bench-cookie-secret-bench-cookie-secret' }
  const lambdaEnv = {
    ...common,
    AWS_LAMBDA_FUNCTION_NAME: 'gatehouse-bench', AWS_REGION: TEST_REGION, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    // The SDK's own endpoint override: config sees no AWS_ENDPOINT_URL_DYNAMODB, as on AWS.
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint, KMS_SIGNING_KEY_ID: signing.keyId, KMS_ENCRYPTION_KEY_ID: encryption.keyId,
    // As Terraform deploys it (issue 17): the public key with the deployment, no GetPublicKey at start.
    KMS_SIGNING_PUBLIC_KEYS: JSON.stringify({ [signing.keyId]: signingPublicKey }),
    UPSTREAM_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench', UPSTREAM_CLIENT_ID: 'bench',
    // As infra/modules/function sets them for Cognito: nothing to discover.
    UPSTREAM_AUTHORIZATION_ENDPOINT: 'https://bench.auth.us-east-1.amazoncognito.com/oauth2/authorize',
    UPSTREAM_TOKEN_ENDPOINT: 'https://bench.auth.us-east-1.amazoncognito.com/oauth2/token',
    UPSTREAM_REVOCATION_ENDPOINT: 'https://bench.auth.us-east-1.amazoncognito.com/oauth2/revoke',
    UPSTREAM_JWKS_URI: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench/.well-known/jwks.json',
    // As the Terraform-deployed function: both secrets by ARN, read from Secrets Manager (the stand-in).
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.secretsManager.endpoint,
    COOKIE_SECRET: undefined,
    COOKIE_SECRET_ARN: secrets.putSecret('gatehouse-bench-cookie', common.COOKIE_SECRET),
    UPSTREAM_CLIENT_SECRET_ARN: secrets.putSecret('gatehouse-bench-upstream', UPSTREAM_CLIENT_SECRET)
  }
  // The same with both secrets in the environment (how this bench ran before session 3).
  const lambdaEnvSecrets = { ...lambdaEnv, COOKIE_SECRET: common.COOKIE_SECRET, COOKIE_SECRET_ARN: undefined, UPSTREAM_CLIENT_SECRET_ARN: undefined, UPSTREAM_CLIENT_SECRET }
  // Each configuration's child script for sample i (the token samples each redeem their own code).
  const configurations: Record<string, { env: Record<string, string | undefined>, script: (i: number) => string }> = {
    floor: { script: () => childScript(floorEntry, mcpEvent(kmsToken)), env: { ...lambdaEnv, FLOOR_GRANT_ID: 'bench-grant' } },
    lambda: { script: () => childScript(built.bundlePath, mcpEvent(kmsToken)), env: lambdaEnv },
    authorize: { script: () => childScript(built.bundlePath, authorizeEvent()), env: lambdaEnv },
    token: { script: (i) => childScript(built.bundlePath, tokenEvent(codes[i] as string)), env: lambdaEnv },
    ...Object.fromEntries(BASELINES.flatMap(([label, bundlePath], b) => [
      [`${label}-lambda`, { script: () => childScript(bundlePath, mcpEvent(kmsToken)), env: lambdaEnv }],
      [`${label}-authorize`, { script: () => childScript(bundlePath, authorizeEvent()), env: lambdaEnv }],
      // Each build's token samples redeem codes of their own (block b + 1 of SAMPLES + 1 codes).
      [`${label}-token`, { script: (i: number) => childScript(bundlePath, tokenEvent(codes[(b + 1) * (SAMPLES + 1) + (i < 0 ? SAMPLES : i)] as string)), env: lambdaEnv }]
    ])),
    'lambda-kms-at-start': { script: () => childScript(built.bundlePath, mcpEvent(kmsToken)), env: { ...lambdaEnv, KMS_SIGNING_PUBLIC_KEYS: undefined } },
    'lambda-env-secrets': { script: () => childScript(built.bundlePath, mcpEvent(kmsToken)), env: lambdaEnvSecrets },
    'lambda-nocache': { script: () => childScript(noCacheEntry, mcpEvent(kmsToken)), env: lambdaEnv },
    plain: { script: () => childScript(plainEntry, mcpEvent(kmsToken)), env: lambdaEnv },
    local: {
      script: () => childScript(built.bundlePath, mcpEvent(localToken)),
      env: { ...common, GATEHOUSE_DATA_DIR: dataDir, AWS_ENDPOINT_URL_DYNAMODB: emulator.endpoint, UPSTREAM_ISSUER: 'http://127.0.0.1:9' }
    }
  }
  const baseline: Record<string, number[]> = { flags: [], plain: [] }
  const baselineCpu: Record<string, number[]> = { flags: [], plain: [] }
  const baselineOf = (mode: string): string => mode === 'plain' ? 'plain' : 'flags'
  const cold: Record<string, number[]> = Object.fromEntries(MODES.map(m => [m, []]))
  const coldCpu: Record<string, number[]> = Object.fromEntries(MODES.map(m => [m, []]))
  for (const mode of MODES) await timeProcess(flagsOf(mode), ['-e', configurations[mode]!.script(SAMPLES)], configurations[mode]!.env, expectOf(mode)) // warm the file cache once
  for (let i = 0; i < SAMPLES; i++) {
    for (const [kind, flags] of [['flags', LAMBDA_FLAGS], ['plain', []]] as const) {
      baseline[kind]!.push(await timeProcess([...flags], ['-e', ''], { PATH: process.env.PATH }))
      await timeProcess([...flags], ['-e', CPU_MARK], { PATH: process.env.PATH }, undefined, baselineCpu[kind])
    }
    for (const mode of MODES) cold[mode]!.push(await timeProcess(flagsOf(mode), [...CHILD_ARGS, '-e', configurations[mode]!.script(i)], configurations[mode]!.env, expectOf(mode), coldCpu[mode], mode))
  }
  const [load1] = (await import('node:os')).loadavg()
  console.log(`\nLambda bundle: ${(built.bytes / 1024).toFixed(0)} KB JavaScript, ${(built.gzipBytes / 1024).toFixed(0)} KB gzip (target ≤ 350 KB gzip); code cache ${built.codeCache.built ? `${(built.codeCache.bytes / 1024).toFixed(0)} KB` : 'none'}`)
  console.log(`cold start, process start → first answer (median of ${SAMPLES}; load average ${load1?.toFixed(2)}; runtime flags: ${LAMBDA_FLAGS.join(' ')}):`)
  console.log(`  node <runtime flags> -e ''      ${median(baseline.flags!).toFixed(0)} ms wall, ${median(baselineCpu.flags!).toFixed(0)} ms CPU`)
  console.log(`  node -e ''                      ${median(baseline.plain!).toFixed(0)} ms wall, ${median(baselineCpu.plain!).toFixed(0)} ms CPU`)
  for (const mode of MODES) {
    const label = { 'lambda-kms-at-start': 'lambda /mcp, GetPublicKey at start', floor: 'floor (Fastify + DynamoDB)', lambda: 'lambda POST /mcp tools/call', authorize: 'lambda GET /authorize', token: 'lambda POST /token (code)', 'lambda-env-secrets': 'lambda, secrets in env', 'lambda-nocache': 'lambda, no code cache', plain: 'lambda config, no flags', local: 'local (files, ensureTable)' }[mode] ?? mode
    const base = baselineOf(mode)
    // Against the floor: the median of the per-round ratios (each round runs every configuration once, in turn).
    const toFloor = cold.floor === undefined || mode === 'floor' ? '' : `, ${median(cold[mode]!.map((ms, i) => ms / (cold.floor![i] as number))).toFixed(2)}× floor (target ≤ ${mode.endsWith('lambda') ? '0.75' : '1.0'}×)`
    console.log(`  ${label.padEnd(30)}  [code cache ${[...(codeCacheStatus[mode] ?? ['none'])].join('/')}] ${median(cold[mode]!).toFixed(0)} ms wall, ${(median(cold[mode]!) / median(baseline[base]!)).toFixed(2)}× node${toFloor}; ${median(coldCpu[mode]!).toFixed(0)} ms CPU, ${(median(coldCpu[mode]!) / median(baselineCpu[base]!)).toFixed(2)}× node${cold.floor === undefined || mode === 'floor' ? '' : `, ${median(coldCpu[mode]!.map((ms, i) => ms / (coldCpu.floor![i] as number))).toFixed(2)}× floor`}`)
    const [ready, loaded, answered] = [0, 1, 2].map(i => median((phases[mode] ?? []).map(p => p[i] as number)))
    console.log(`  ${''.padEnd(30)}  phases: Node ready ${ready?.toFixed(0)} ms, bundle loaded +${((loaded as number) - (ready as number)).toFixed(0)} ms, first answer +${((answered as number) - (loaded as number)).toFixed(0)} ms`)
  }
} finally {
  await kms.close()
  await secrets.close()
  await emulator.close()
  await rm(dataDir, { recursive: true, force: true })
}
