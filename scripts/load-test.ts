// `npm run test:load`: a bounded loopback load test. The app runs in a child process (the real app, as in
// tests) and the embedded store emulator in another; this process keeps LOAD_CONCURRENCY connections busy for LOAD_DURATION_S seconds
// with a mix of /mcp tool calls, metadata reads and token refreshes, then asserts:
//   - zero errors (every answer 2xx, no network error),
//   - reports p50/p95/p99 latency per kind,
//   - the server's RSS does not grow: after a warm-up, the mean RSS of the last third of the run is within
//     RSS_TOLERANCE of the first third's. 15 % (plus 8 MiB for allocator granularity) is well above the noise of
//     V8's heap steps and GC timing at steady state on this machine, and far below what a per-request leak
//     shows: leaking 1 KiB per request at ~5 000 requests/s would add ~100 MiB over the 40 measured seconds.
// Refreshes are paced at REFRESH_PER_S (default 1.5/s): /token is rate-limited to 120 requests a minute per
// client address, and all load comes from 127.0.0.1. Loopback only; bounded in time and in requests.
// The server also reports its heap in use after a full GC at the end of warm-up and of the run (a leak of JS
// objects shows there even when RSS hides it). The emulator runs apart because dynalite's Query path retains
// ~3 KiB per call in its own process; that is a local-only component (never on AWS), measured separately.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'node:http'

const DURATION_S = Number(process.env.LOAD_DURATION_S ?? 60)
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 100)
const WARMUP_S = Number(process.env.LOAD_WARMUP_S ?? Math.min(10, Math.floor(DURATION_S / 6)))
const REFRESH_PER_S = Number(process.env.REFRESH_PER_S ?? 1.5)
/**
 * Grants, each with its refresh-token chain, taken in turn by the refresher: enough that no chain rotates more
 * than 16 times in the run, since more within an access-token lifetime revokes the grant (SECURITY.md).
 */
const GRANTS = Math.max(20, Math.ceil((DURATION_S + WARMUP_S) * REFRESH_PER_S / 16) + 1)
const MAX_REQUESTS = Number(process.env.LOAD_MAX_REQUESTS ?? 3_000_000)
const RSS_TOLERANCE = Number(process.env.RSS_TOLERANCE ?? 0.15)
const RSS_SLACK_BYTES = 8 * 1024 * 1024
/** The server's V8 old space, as on a Lambda function of a fixed size: V8 collects against this budget. */
const OLD_SPACE_MB = Number(process.env.LOAD_OLD_SPACE_MB ?? 256)
/** Which kinds the workers send (comma list of mcp, metadata); for narrowing down a failure. */
const KINDS = (process.env.LOAD_KINDS ?? 'mcp,metadata').split(',')

interface Ready { url: string, pid: number, clientId: string, accessTokens: string[], refreshTokens: string[] }

// ── the server side (child process) ─────────────────────────────────────────────

/** The embedded emulator in a process of its own: its Query path retains memory (see the report), and it
 * is not what runs on AWS, so it must not count in the server's RSS. */
async function emulate (): Promise<void> {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { startEmbeddedStore } = await import('../src/store/embedded.ts')
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-load-store-'))
  const emulator = await startEmbeddedStore({ dataDir, inLambda: false })
  process.stdout.write(`EMULATOR ${emulator.endpoint}\n`)
  const stop = async (): Promise<void> => { await emulator.close(); await rm(dataDir, { recursive: true, force: true }); process.exit(0) }
  process.on('SIGTERM', () => { void stop() })
  process.stdin.on('end', () => { void stop() })
  process.stdin.resume()
}

async function serve (endpoint: string): Promise<void> {
  const { buildTestApp } = await import('../test/support/app.ts')
  const { mintGrant, registerTestClient } = await import('../test/security/mint.ts')
  const [{ DynamoStore }, { createDynamoClient }] = await Promise.all([import('../src/store/dynamo-store.ts'), import('../src/store/dynamo-client.ts')])
  const { ensureTable } = await import('../src/store/table.ts')
  const { SYSTEM_CLOCK } = await import('../src/ports/clock.ts')
  const teardowns: Array<() => unknown> = []
  const fakeTest = { teardown: (fn: () => unknown) => { teardowns.push(fn) } } as never
  const dynamo = createDynamoClient({ region: 'us-east-1', endpoint })
  const table = 'gatehouse-load'
  await ensureTable(dynamo, table)
  const store = new DynamoStore({ client: dynamo, table, clock: SYSTEM_CLOCK, timeoutMs: 3000 })
  const testStore = { store, endpoint, table, dataDir: '', clock: SYSTEM_CLOCK, close: async () => { dynamo.destroy() } }
  const { app, url } = await buildTestApp(fakeTest, { listen: true, store: testStore })
  const client = await registerTestClient(app)
  const accessTokens: string[] = []
  const refreshTokens: string[] = []
  for (let i = 0; i < GRANTS; i++) {
    const minted = await mintGrant(app, client.clientId, { identity: { sub: `load-user-${i}`, groups: i % 2 === 0 ? ['admins'] : [] } })
    accessTokens.push(minted.accessToken)
    refreshTokens.push(minted.refreshToken as string)
  }
  const ready: Ready = { url, pid: process.pid, clientId: client.clientId, accessTokens, refreshTokens }
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`)
  const stop = async (): Promise<void> => {
    for (const fn of teardowns.reverse()) await fn()
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop() })
  // Heap in use after a full collection: tells a leak (it grows) from lazy collection (it does not).
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.()
    process.stdout.write(`HEAP ${process.memoryUsage().heapUsed}\n`)
  })
  process.stdin.on('end', () => { void stop() })
  process.stdin.resume()
}

// ── the load side ───────────────────────────────────────────────────────────

function rssOf (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  return Number(kb) * 1024
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const heaps: number[] = []

async function main (): Promise<void> {
  const self = fileURLToPath(import.meta.url)
  const emulator = spawn(process.execPath, [self, '--emulate'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const endpoint = await new Promise<string>((resolve, reject) => {
    createInterface({ input: emulator.stdout! }).on('line', line => { if (line.startsWith('EMULATOR ')) resolve(line.slice(9)) })
    emulator.once('exit', code => reject(new Error(`emulator exited (${code})`)))
  })
  const child = spawn(process.execPath, ['--expose-gc', `--max-old-space-size=${OLD_SPACE_MB}`, self, '--serve', endpoint], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'silent' } })
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server not ready in 60 s')), 60_000)
    createInterface({ input: child.stdout! }).on('line', line => {
      if (line.startsWith('HEAP ')) heaps.push(Number(line.slice(5)))
      if (line.startsWith('READY ')) { clearTimeout(timer); resolve(JSON.parse(line.slice(6)) as Ready) }
    })
    child.once('exit', code => reject(new Error(`server exited (${code})`)))
  })
  const base = new URL(ready.url)
  if (base.hostname !== '127.0.0.1') throw new Error('loopback only')
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })

  const latencies: Record<string, number[]> = { mcp: [], metadata: [], refresh: [] }
  const errors: string[] = []
  let sent = 0
  const started = performance.now()
  const deadline = started + DURATION_S * 1000
  const refreshTokens = [...ready.refreshTokens]
  const call = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: base.port, method, path, headers, agent, timeout: 10_000 }, res => {
        const chunks: Buffer[] = []
        res.on('data', c => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', reject)
      req.end(body)
    })
  const record = async (kind: string, run: () => Promise<{ status: number, body: string }>, ok: (status: number) => boolean = s => s >= 200 && s < 300): Promise<{ status: number, body: string } | undefined> => {
    const t0 = performance.now()
    sent++
    try {
      const res = await run()
      latencies[kind]!.push(performance.now() - t0)
      if (!ok(res.status)) { errors.push(`${kind} ${res.status} ${res.body.slice(0, 120)}`); return undefined }
      return res
    } catch (error) {
      errors.push(`${kind} ${(error as Error).message}`)
      return undefined
    }
  }
  const only = process.env.LOAD_TOOL
  const mcpBody = (i: number): string => JSON.stringify(only !== undefined ? { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: only, arguments: {} } } : i % 2 === 0
    ? { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'whoami', arguments: {} } }
    : { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'query_data', arguments: {} } })
  const metadataPaths = ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp', '/jwks.json', '/.well-known/openid-configuration']

  async function worker (w: number): Promise<void> {
    let i = 0
    while (performance.now() < deadline && sent < MAX_REQUESTS) {
      i++
      if (!KINDS.includes('mcp') || (KINDS.includes('metadata') && i % 4 === 0)) {
        await record('metadata', () => call('GET', metadataPaths[(w + i) % metadataPaths.length] as string, {}))
      } else {
        const token = ready.accessTokens[(w + i) % ready.accessTokens.length] as string
        await record('mcp', () => call('POST', '/mcp', { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, mcpBody(i)))
      }
    }
  }

  // Refreshes: paced, each rotating one of the refresh token chains.
  async function refresher (): Promise<void> {
    let n = 0
    while (performance.now() < deadline) {
      const slot = n % refreshTokens.length
      n++
      const res = await record('refresh', () => call('POST', '/token', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshTokens[slot] as string, client_id: ready.clientId }).toString()))
      if (res !== undefined) refreshTokens[slot] = (JSON.parse(res.body) as { refresh_token: string }).refresh_token
      await new Promise(resolve => setTimeout(resolve, 1000 / REFRESH_PER_S))
    }
  }

  const rss: Array<{ at: number, bytes: number }> = []
  const heapProbe = setTimeout(() => child.kill('SIGUSR2'), WARMUP_S * 1000)
  const sampler = setInterval(() => rss.push({ at: (performance.now() - started) / 1000, bytes: rssOf(ready.pid) }), 500)
  console.log(`load: ${CONCURRENCY} connections for ${DURATION_S} s against ${ready.url} (warm-up ${WARMUP_S} s, refreshes ${REFRESH_PER_S}/s)`)
  await Promise.all([...Array.from({ length: CONCURRENCY }, (_, w) => worker(w)), refresher()])
  clearInterval(sampler)
  clearTimeout(heapProbe)
  const elapsed = (performance.now() - started) / 1000
  await new Promise(resolve => setTimeout(resolve, 3000)) // let the last answers drain
  child.kill('SIGUSR2')
  await new Promise(resolve => setTimeout(resolve, 1500))
  child.stdin!.end()
  emulator.stdin!.end()
  agent.destroy()

  console.log(`\n${sent} requests in ${elapsed.toFixed(1)} s (${Math.round(sent / elapsed)} req/s), ${errors.length} errors`)
  for (const [kind, values] of Object.entries(latencies)) {
    const sorted = [...values].sort((a, b) => a - b)
    console.log(`  ${kind.padEnd(8)} n=${String(sorted.length).padStart(7)}  p50=${percentile(sorted, 50).toFixed(1)} ms  p95=${percentile(sorted, 95).toFixed(1)} ms  p99=${percentile(sorted, 99).toFixed(1)} ms  max=${(sorted.at(-1) ?? NaN).toFixed(1)} ms`)
  }
  const all = Object.values(latencies).flat().sort((a, b) => a - b)
  console.log(`  overall  p99=${percentile(all, 99).toFixed(1)} ms`)

  const measured = rss.filter(s => s.at >= WARMUP_S)
  const third = Math.max(1, Math.floor(measured.length / 3))
  const mean = (xs: Array<{ bytes: number }>): number => xs.reduce((n, x) => n + x.bytes, 0) / xs.length
  const first = mean(measured.slice(0, third))
  const last = mean(measured.slice(-third))
  const limit = first * (1 + RSS_TOLERANCE) + RSS_SLACK_BYTES
  const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MiB`
  if (heaps.length >= 2) console.log(`  server heap in use after a full GC: ${mib(heaps[0] as number)} after warm-up, ${mib(heaps.at(-1) as number)} at the end`)
  console.log(`  server RSS after warm-up: first third ${mib(first)}, last third ${mib(last)} (limit ${mib(limit)}), peak ${mib(Math.max(...rss.map(s => s.bytes)))}`)

  const failures: string[] = []
  if (errors.length > 0) failures.push(`${errors.length} errors, first: ${errors.slice(0, 5).join(' | ')}`)
  if (latencies.refresh!.length === 0 || KINDS.some(k => latencies[k]?.length === 0)) failures.push('a request kind never ran')
  if (measured.length < 6) failures.push('too few RSS samples after warm-up')
  else if (last > limit) failures.push(`RSS grew: ${mib(first)} → ${mib(last)} (limit ${mib(limit)})`)
  if (failures.length > 0) {
    console.error(`\nFAIL\n  ${failures.join('\n  ')}`)
    process.exit(1)
  }
  console.log('\nPASS: zero errors, RSS flat')
  process.exit(0)
}

const mode = process.argv[2]
if (mode === '--serve') await serve(process.argv[3] as string)
else if (mode === '--emulate') await emulate()
else await main()
