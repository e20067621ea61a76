// Builds the Lambda bundle's V8 code cache (see src/lambda-code-cache.ts): runs the bundled app once, in a
// process started with the flags the nodejs22.x runtime gives the function, against the embedded store and
// local keys, on the requests a cold start meets first; then saves V8's bytecode of every function that ran.
//
// V8 accepts a cache only from the same V8 build, architecture and flags. The runtime's bootstrap derives
// the heap flags from the function's memory (LAMBDA_MEMORY_SIZE, default 1024 = infra's default), and the
// cache can only be built on the function's architecture (LAMBDA_ARCHITECTURE, default x86_64 = infra's
// default); on another host the build ships no cache and says so. The function logs a warning at init when
// its cache does not fit (src/lambda-entry.ts).
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedStore } from '../src/store/embedded.ts'
import { DynamoStore } from '../src/store/dynamo-store.ts'
import { createDynamoClient } from '../src/store/dynamo-client.ts'
import { ensureTable } from '../src/store/table.ts'
import { LocalKeySet } from '../src/crypto/local-keys.ts'
import { issueAccessToken } from '../src/oauth/access-tokens.ts'
import { s256 } from '../src/oauth/pkce.ts'
import { randomToken, sha256 as tokenHash } from '../src/oauth/secrets.ts'
import { SYSTEM_CLOCK } from '../src/ports/clock.ts'
import { cachePaths, compiledSourceHash, parseCodeCacheRecord, sha256 } from '../src/lambda-code-cache.ts'
import { httpApiEvent } from './http-api-event.ts'

export const LAMBDA_DEFAULT_MEMORY_SIZE = 1024
export const LAMBDA_DEFAULT_ARCHITECTURE = 'x86_64'
const NODE_ARCH: Record<string, string> = { x86_64: 'x64', arm64: 'arm64' }

/** The Node flags the nodejs22.x runtime's bootstrap starts the function with, for a memory size in MB. */
export function lambdaNodeFlags (memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10)
  return ['--expose-gc', '--max-http-header-size=81920', `--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`]
}

export interface CodeCacheTarget { memorySize: number, architecture: string }

export function codeCacheTarget (env: NodeJS.ProcessEnv = process.env): CodeCacheTarget {
  const memorySize = Number(env.LAMBDA_MEMORY_SIZE ?? LAMBDA_DEFAULT_MEMORY_SIZE)
  const architecture = env.LAMBDA_ARCHITECTURE ?? LAMBDA_DEFAULT_ARCHITECTURE
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) throw new Error(`LAMBDA_MEMORY_SIZE must be the function's memory in MB (128-10240), got ${env.LAMBDA_MEMORY_SIZE}`)
  if (NODE_ARCH[architecture] === undefined) throw new Error(`LAMBDA_ARCHITECTURE must be x86_64 or arm64, got ${architecture}`)
  return { memorySize, architecture }
}

const PUBLIC_URL = 'https://code-cache.gatehouse.invalid'
const TABLE = 'gatehouse-code-cache'

const CLIENT_ID = 'warm-up-client'
const REDIRECT_URI = 'http://127.0.0.1:33418/callback'
const VERIFIER = 'code-cache-warm-up-verifier-0123456789-abcdefghij'

/** The requests a cold start typically meets first, with the status each must get. */
function warmUpEvents (token: string, code: string): Array<{ event: Record<string, unknown>, status: number }> {
  const mcp = (id: number, method: string, params: unknown, bearer: string | null = token): Record<string, unknown> => httpApiEvent(PUBLIC_URL, 'POST', '/mcp', {
    'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
    ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` })
  }, JSON.stringify({ jsonrpc: '2.0', id, method, params }))
  return [
    { event: mcp(1, 'tools/call', { name: 'whoami', arguments: {} }), status: 200 },
    { event: mcp(2, 'tools/list', {}, null), status: 401 },
    { event: httpApiEvent(PUBLIC_URL, 'GET', '/.well-known/oauth-protected-resource/mcp'), status: 200 },
    { event: httpApiEvent(PUBLIC_URL, 'GET', '/.well-known/oauth-authorization-server'), status: 200 },
    { event: mcp(3, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'warm-up', version: '1' } }), status: 200 },
    { event: mcp(4, 'tools/list', {}), status: 200 },
    { event: mcp(5, 'tools/call', { name: 'query_data', arguments: {} }), status: 200 },
    // A sign-in's first requests (issue 17: their cold starts are measured too): the consent page, then the code exchange.
    { event: httpApiEvent(PUBLIC_URL, 'GET', '/authorize', { accept: 'text/html' }, undefined, { response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge: s256(VERIFIER), code_challenge_method: 'S256', scope: 'mcp:read', state: 'warm-up' }), status: 200 },
    { event: httpApiEvent(PUBLIC_URL, 'POST', '/token', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER, client_id: CLIENT_ID }).toString()), status: 200 }
  ]
}

export type CodeCacheResult = { built: true, reused: boolean, bytes: number, target: CodeCacheTarget } | { built: false, reason: string, target: CodeCacheTarget }

/** An earlier build's cache files, read before the build directory is cleared. */
export interface PreviousCodeCache { data: Buffer, record: string }

export async function readPreviousCodeCache (bundleFile: string): Promise<PreviousCodeCache | undefined> {
  try {
    return { data: await readFile(cachePaths(bundleFile).data), record: await readFile(cachePaths(bundleFile).fingerprint, 'utf8') }
  } catch {
    return undefined
  }
}

/** The warm-up's own code: a changed warm-up (other requests) makes a new cache even for the same bundle. */
async function warmUpHash (): Promise<string> {
  const files = await Promise.all(['code-cache.ts', 'code-cache-warm-up.ts', 'http-api-event.ts'].map(name => readFile(join(import.meta.dirname, name))))
  return sha256(Buffer.concat(files))
}

/**
 * V8 writes a slightly different cache on every run, so a rebuild would change the zip, Terraform's
 * source_code_hash, and redeploy (and cold-start) the function for nothing. An earlier cache made from the
 * very same bundle, for the same target, by this same Node is kept instead.
 */
async function reuse (bundleFile: string, target: CodeCacheTarget, nodeFlags: string[], warmUp: string, previous: PreviousCodeCache | undefined): Promise<number | undefined> {
  const record = previous === undefined ? undefined : parseCodeCacheRecord(previous.record)
  if (previous === undefined || record === undefined) return undefined
  const recorded = JSON.parse(previous.record) as { warmUp?: unknown }
  const fits = record.source === compiledSourceHash(await readFile(bundleFile)) && record.cache === sha256(previous.data) &&
    recorded.warmUp === warmUp &&
    record.platform === 'linux' && record.arch === NODE_ARCH[target.architecture] && record.node === process.version &&
    record.v8 === process.versions.v8 && JSON.stringify(record.execArgv) === JSON.stringify(nodeFlags)
  if (!fits) return undefined
  await writeFile(cachePaths(bundleFile).data, previous.data)
  await writeFile(cachePaths(bundleFile).fingerprint, previous.record)
  return previous.data.length
}

/**
 * Writes `<bundle>.cache` and `<bundle>.cache.json` next to the bundle, or explains why it cannot here.
 * `nodeFlags` other than the runtime's are for measurements only (scripts/bench-cold-start.ts).
 */
export async function buildCodeCache (bundleFile: string, target: CodeCacheTarget = codeCacheTarget(), nodeFlags = lambdaNodeFlags(target.memorySize), previous?: PreviousCodeCache): Promise<CodeCacheResult> {
  if (process.platform !== 'linux' || process.arch !== NODE_ARCH[target.architecture]) {
    return { built: false, target, reason: `a ${target.architecture} Lambda cache must be built on linux-${NODE_ARCH[target.architecture]}, this is ${process.platform}-${process.arch}` }
  }
  const warmUp = await warmUpHash()
  const reused = await reuse(bundleFile, target, nodeFlags, warmUp, previous)
  if (reused !== undefined) return { built: true, reused: true, bytes: reused, target }
  const work = await mkdtemp(join(tmpdir(), 'gatehouse-code-cache-'))
  const emulator = await startEmbeddedStore({ dataDir: join(work, 'store'), inLambda: false })
  try {
    const client = createDynamoClient({ region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs: 5000 })
    await ensureTable(client, TABLE)
    const now = SYSTEM_CLOCK.now()
    const identity = { sub: 'warm-up', email: 'warm-up@gatehouse.invalid', groups: ['engineering'] }
    const store = new DynamoStore({ client, table: TABLE, clock: SYSTEM_CLOCK, timeoutMs: 5000 })
    await store.saveGrant({ grantId: 'warm-up', clientId: 'warm-up', identity, scope: ['mcp:read'], resource: `${PUBLIC_URL}/mcp`, createdAt: now, expiresAt: now + 600 })
    await store.saveClient({ clientId: CLIENT_ID, tokenEndpointAuthMethod: 'none', redirectUris: [REDIRECT_URI], grantTypes: ['authorization_code', 'refresh_token'], responseTypes: ['code'], clientName: 'warm-up', createdAt: now, expiresAt: 0 })
    const code = randomToken()
    await store.saveCode({ codeHash: tokenHash(code), clientId: CLIENT_ID, redirectUri: REDIRECT_URI, codeChallenge: s256(VERIFIER), scope: ['mcp:read'], resource: `${PUBLIC_URL}/mcp`, identity, grantId: 'warm-up-code-grant', createdAt: now, expiresAt: now + 600 })
    client.destroy()
    const keys = await LocalKeySet.open({ dataDir: work })
    const { token } = await issueAccessToken({ grantId: 'warm-up', clientId: 'warm-up', identity }, ['mcp:read'], { keys, clock: SYSTEM_CLOCK, issuer: PUBLIC_URL, audience: `${PUBLIC_URL}/mcp`, ttlSeconds: 600 })
    const eventsFile = join(work, 'events.json')
    await writeFile(eventsFile, JSON.stringify(warmUpEvents(token, code)))
    // A clean environment: no NODE_OPTIONS or coverage settings from the caller, which could change the
    // flags V8 hashes into the cache or the bytecode it holds. Under tap (test/lambda/handler.test.ts
    // builds the bundle) its child-process hook would add V8 coverage back unless told not to.
    const env = {
      _TAPJS_PROCESSINFO_COVERAGE_: '0',
      PATH: process.env.PATH, GATEHOUSE_PUBLIC_URL: PUBLIC_URL, GATEHOUSE_TABLE: TABLE, GATEHOUSE_DATA_DIR: work,
      AWS_ENDPOINT_URL_DYNAMODB: emulator.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'warm-up', AWS_SECRET_ACCESS_KEY: 'warm-up',
      COOKIE_SECRET: 'code-cache-warm-up-cookie-secret-0123456789', UPSTREAM_ISSUER: 'http://127.0.0.1:9', LOG_LEVEL: 'silent'
    }
    const bytes = await runWarmUp([...nodeFlags, join(import.meta.dirname, 'code-cache-warm-up.ts'), bundleFile, eventsFile], env)
    // Recorded for reuse() only; the function's loader ignores the field.
    const recordFile = cachePaths(bundleFile).fingerprint
    await writeFile(recordFile, JSON.stringify({ ...JSON.parse(await readFile(recordFile, 'utf8')), warmUp }, null, 2) + '\n')
    return { built: true, reused: false, bytes, target }
  } finally {
    await emulator.close()
    await rm(work, { recursive: true, force: true })
  }
}

function runWarmUp (args: string[], env: Record<string, string | undefined>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { out += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      const bytes = Number(/^code-cache-bytes (\d+)$/m.exec(out)?.[1])
      if (code === 0 && Number.isInteger(bytes)) resolve(bytes)
      else reject(new Error(`code cache warm-up failed (exit ${code}): ${out.slice(-2000)}`))
    })
  })
}
