// `npm run bench:cold-start`: Lambda cold start, measured as a ratio against a bare Node start in the same
// run (this machine is shared and noisy; absolute times are not stable). Each sample is a fresh process that
// require()s the bundle (as the nodejs22.x runtime does), sends one `tools/call whoami` event with a real
// RS256 token through the handler, prints the answer and exits; the baseline is `node -e ''`.
// Local keys and the embedded store stand in for KMS and DynamoDB (their network round trips are not part
// of what this measures). BENCH_SAMPLES (default 15) sets the number of samples of each.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundle } from './bundle.ts'
import { startEmbeddedStore } from '../src/store/embedded.ts'
import { createDynamoClient, DynamoStore } from '../src/store/dynamo-store.ts'
import { ensureTable } from '../src/store/table.ts'
import { LocalKeySet } from '../src/crypto/local-keys.ts'
import { issueAccessToken } from '../src/oauth/access-tokens.ts'
import { SYSTEM_CLOCK } from '../src/oauth/ports.ts'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15)
const PUBLIC_URL = 'https://bench.example.com'

function timeProcess (args: string[], env: Record<string, string | undefined>, expect?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { out += d })
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (code !== 0 || (expect !== undefined && !out.includes(expect))) reject(new Error(`sample failed (exit ${code}): ${out.slice(0, 500)}`))
      else resolve(ms)
    })
  })
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number }

const built = await bundle()
const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-cold-'))
const emulator = await startEmbeddedStore({ dataDir: join(dataDir, 'store'), inLambda: false })
try {
  const client = createDynamoClient({ region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs: 3000 })
  await ensureTable(client, 'gatehouse-bench')
  const store = new DynamoStore({ client, table: 'gatehouse-bench', clock: SYSTEM_CLOCK, timeoutMs: 3000 })
  const keys = await LocalKeySet.open({ dataDir })
  const now = SYSTEM_CLOCK.now()
  const identity = { sub: 'bench-user', email: 'bench@example.com', groups: ['engineering'] }
  await store.saveGrant({ grantId: 'bench-grant', clientId: 'bench-client', identity, scope: ['mcp:read'], resource: `${PUBLIC_URL}/mcp`, createdAt: now, expiresAt: now + 3600 })
  const { token } = await issueAccessToken({ grantId: 'bench-grant', clientId: 'bench-client', identity }, ['mcp:read'], { keys, clock: SYSTEM_CLOCK, issuer: PUBLIC_URL, audience: `${PUBLIC_URL}/mcp`, ttlSeconds: 3600 })
  client.destroy()

  const event = {
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '', isBase64Encoded: false,
    headers: { host: 'bench.example.com', 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
    requestContext: { http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'bench' }, requestId: 'r', routeKey: '$default', stage: '$default' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } })
  }
  const script = `const { handler } = require(${JSON.stringify(built.bundlePath)});
handler(${JSON.stringify(event)}, {}).then(r => { process.stdout.write(String(r.statusCode) + ' ' + r.body); process.exit(0) }, e => { console.error(e); process.exit(1) })`
  const env = {
    PATH: process.env.PATH, GATEHOUSE_PUBLIC_URL: PUBLIC_URL, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_TABLE: 'gatehouse-bench',
    AWS_ENDPOINT_URL_DYNAMODB: emulator.endpoint, UPSTREAM_ISSUER: 'http://127.0.0.1:9', LOG_LEVEL: 'silent', COOKIE_SECRET: 'bench-cookie-secret-bench-cookie-secret'
  }
  const baseline: number[] = []
  const cold: number[] = []
  await timeProcess(['-e', script], env, '200 ') // warm the file cache once
  for (let i = 0; i < SAMPLES; i++) {
    baseline.push(await timeProcess(['-e', ''], { PATH: process.env.PATH }))
    cold.push(await timeProcess(['-e', script], env, 'bench@example.com'))
  }
  const ratio = median(cold) / median(baseline)
  console.log(`\nLambda bundle: ${(built.bytes / 1024).toFixed(0)} KB, ${(built.gzipBytes / 1024).toFixed(0)} KB gzip (target ≤ 350 KB gzip)`)
  console.log(`cold start, process start → first tools/call answer (median of ${SAMPLES}):`)
  console.log(`  node -e ''           ${median(baseline).toFixed(0)} ms`)
  console.log(`  bundle + tools/call  ${median(cold).toFixed(0)} ms`)
  console.log(`  ratio                ${ratio.toFixed(2)}× (target ≤ 2×)`)
} finally {
  await emulator.close()
  await rm(dataDir, { recursive: true, force: true })
}
