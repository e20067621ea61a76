// `npm run bench`: one run, one load generator, three servers on loopback, each in its own child process
// (so its RSS is its own and the load generator has its own core):
//   (a) a bare Fastify echo route,
//   (b) the MCP SDK's own stateless Express example (new McpServer + transport per request) serving a
//       whoami-like tool,
//   (c) gatehouse POST /mcp tools/call whoami with a real RS256 token and a grant in the store (MCP 2025-06-18),
//   (d) the same call in the MCP 2026-07-28 era (per-request _meta, Mcp-Method/Mcp-Name headers; issue 13),
//   (f) the same tools/call as (b) through gatehouse's gateway (POST /mcp/sdk, issue 14) to (b) itself: token check,
//       tool policy, a backend JWT (cached) and the forwarded exchange, against (b) called directly,
//   (g) the official reference server @modelcontextprotocol/server-everything (stateful sessions, one per
//       connection), tools/call echo called directly, and (h) the same call to the same backend process through
//       the gateway (POST /mcp/everything; the session id the client holds is the gateway's sealed one),
//   (e) gatehouse POST /token, grant_type=refresh_token (issue 17): every request rotates its connection's
//       refresh token (the next request sends the one just issued), signs an access token and writes the store.
// gatehouse's store, the embedded DynamoDB emulator, runs in a process of its own (as DynamoDB is not in the
// Lambda's process): the RSS column of (c)–(e) is gatehouse's alone. A store child is started when needed.
// The load generator is a bounded closed loop: N keep-alive connections (raw HTTP/1.1), each sending its next
// request when the previous answer is fully read, for a fixed duration after a warm-up.
// Options (environment): BENCH_CONNECTIONS (default 16), BENCH_DURATION (seconds per target per round,
// default 5), BENCH_ROUNDS (default 3), BENCH_WARMUP (seconds, default 2), BENCH_TARGETS (default "echo,sdk,gatehouse,gatehouse-2026,refresh,everything,gateway-everything"), BENCH_GATEHOUSE_LOG=info
// to run (c) with request logging on (to /dev/null), BENCH_NODE_ARGS for the servers' node flags
// (e.g. "--cpu-prof --cpu-prof-dir=.prof" to profile them), BENCH_PIN=1|0 (default 1
// on a machine with ≥ 2 CPUs and taskset): in the gateway comparisons ((g)/(h), and (b)/(f) when (f) runs) the
// backend runs alone on the last CPU, gatehouse and the load generator (during those targets' turns) on the
// others, so the backend gets its own core in both the direct and the gateway configuration, as a backend on
// its own machine would. The other targets keep all CPUs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { tmpdir, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, type Socket } from 'node:net'

const SELF = fileURLToPath(import.meta.url)
/** Set by a server that holds resources (the embedded store) to release on SIGTERM. */
let closeServer: () => Promise<void> = async () => {}
const TOOL_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } })
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }
const TOOL_CALL_2026 = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'whoami', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } }
})
const MCP_HEADERS_2026 = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' }

interface Target {
  port: number
  path: string
  headers: Record<string, string>
  body: string
  /** A substring every good answer contains. */
  expect: string
  /**
   * Refresh targets: one refresh token per connection; each request sends its connection's current token in
   * place of REFRESH_TOKEN_SLOT in `body`, and the answer's refresh_token becomes the next one.
   */
  refreshTokens?: string[]
  /** Stateful MCP targets: each connection initializes a session first and sends its id with every call. */
  session?: boolean
}

const REFRESH_TOKEN_SLOT = 'REFRESH-TOKEN-SLOT'

// ── servers (child processes) ────────────────────────────────────────────────

async function serveEcho (): Promise<Target> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  app.post('/echo', async request => request.body)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { port: (app.server.address() as { port: number }).port, path: '/echo', headers: { 'content-type': 'application/json' }, body: TOOL_CALL, expect: '"whoami"' }
}

/** The SDK's examples/server/simpleStatelessStreamableHttp, with its tool replaced by a whoami-like one and its console.log removed. */
async function serveSdkExpress (): Promise<Target> {
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js')
  const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js')
  const { createMcpExpressApp } = await import('@modelcontextprotocol/sdk/server/express.js')
  const getServer = () => {
    const server = new McpServer({ name: 'stateless-streamable-http-server', version: '1.0.0' }, { capabilities: { logging: {} } })
    server.registerTool('whoami', { description: 'Returns the caller', inputSchema: {} }, async () => {
      const value = { sub: 'user-1', email: 'user@example.com', groups: ['engineering'], scopes: ['mcp:read', 'mcp:write'], client_id: 'bench-client' }
      return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value }
    })
    return server
  }
  const app = createMcpExpressApp()
  type ExpressRequest = import('node:http').IncomingMessage & { body?: unknown }
  type ExpressResponse = import('node:http').ServerResponse & { status: (code: number) => { json: (value: unknown) => void } }
  app.post('/mcp', async (req: ExpressRequest, res: ExpressResponse) => {
    const server = getServer()
    try {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      await server.connect(transport)
      await transport.handleRequest(req, res, req.body)
      res.on('close', () => { void transport.close(); void server.close() })
    } catch {
      if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null })
    }
  })
  const server = await new Promise<import('node:http').Server>(resolve => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  return { port: (server.address() as { port: number }).port, path: '/mcp', headers: MCP_HEADERS, body: TOOL_CALL, expect: 'user-1' }
}

const ECHO_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'bench-echo' } } })

/** The MCP reference server as it ships (Express, a transport and server per session, an in-memory event store), its per-request console.log silenced. */
async function serveEverything (): Promise<Target> {
  await import('../test/support/loopback-listen.mjs' as string)
  const port = Number(process.env.BENCH_PORT)
  process.env.PORT = String(port)
  console.log = () => {}
  await import('@modelcontextprotocol/server-everything/dist/transports/streamableHttp.js' as string)
  for (let attempt = 0; ; attempt++) {
    const up = await new Promise<boolean>(resolve => { const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) }); s.once('error', () => resolve(false)) })
    if (up) break
    if (attempt > 200) throw new Error('server-everything did not listen')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { port, path: '/mcp', headers: MCP_HEADERS, body: ECHO_CALL, expect: 'Echo: bench-echo', session: true }
}

/** The embedded DynamoDB emulator, alone in its process; the gatehouse children reach it at BENCH_STORE_ENDPOINT. */
async function serveStore (): Promise<Target> {
  const { startEmbeddedStore } = await import('../src/store/embedded.ts')
  const { createDynamoClient } = await import('../src/store/dynamo-client.ts')
  const { ensureTable } = await import('../src/store/table.ts')
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-store-'))
  const emulator = await startEmbeddedStore({ dataDir, inLambda: false })
  const client = createDynamoClient({ region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs: 3000 })
  await ensureTable(client, 'gatehouse-bench')
  client.destroy()
  closeServer = async () => { await emulator.close(); await rm(dataDir, { recursive: true, force: true }) }
  return { port: Number(new URL(emulator.endpoint).port), path: '', headers: {}, body: '', expect: '' }
}

/** Simulated seconds per real second on the refresh target: 60 s (its access-token lifetime) every 1.7 ms. */
const REFRESH_CLOCK_SPEED = 36_000
/** The longest lifetimes, so that the fast clock does not expire the grants within a run (a year is 15 min). */
const REFRESH_TTLS = { ACCESS_TOKEN_TTL: '60', REFRESH_TOKEN_TTL: '31536000', GRANT_MAX_TTL: '31536000' }

function fastClock (speed: number): { now: () => number } {
  const startMs = Date.now()
  return { now: () => Math.floor((startMs + (Date.now() - startMs) * speed) / 1000) }
}

async function serveGatehouse (options: { refresh?: boolean, backendUrl?: string, backendName?: string } = {}): Promise<Target> {
  const { default: Fastify } = await import('fastify')
  const { default: gatehouse, options: serverOptions } = await import('../src/app.ts')
  const { loadConfig } = await import('../src/config.ts')
  const [{ DynamoStore }, { createDynamoClient }] = await Promise.all([import('../src/store/dynamo-store.ts'), import('../src/store/dynamo-client.ts')])
  const { LocalKeySet } = await import('../src/crypto/local-keys.ts')
  const { LocalCipher } = await import('../src/crypto/local-cipher.ts')
  const { issueAccessToken } = await import('../src/oauth/access-tokens.ts')
  const { SYSTEM_CLOCK } = await import('../src/ports/clock.ts')

  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'))
  // A refresh that would forget a token rotated out less than an access-token lifetime ago revokes the grant
  // (a thief flushing the retired list), and every connection rotates its grant back to back: the refresh
  // target's clock runs fast enough that each rotation looks one access-token lifetime apart, as a client
  // refreshing when its token expires would be. The clock changes no cost.
  const clock = options.refresh === true ? fastClock(REFRESH_CLOCK_SPEED) : SYSTEM_CLOCK
  const client = createDynamoClient({ region: 'us-east-1', endpoint: process.env.BENCH_STORE_ENDPOINT!, timeoutMs: 3000 })
  const store = new DynamoStore({ client, table: 'gatehouse-bench', clock, timeoutMs: 3000 })
  const keys = await LocalKeySet.open({ dataDir, clock: SYSTEM_CLOCK })
  const cipher = new LocalCipher(randomBytes(32))
  const port = Number(process.env.BENCH_PORT)
  const backendName = options.backendName ?? 'sdk'
  const config = loadConfig({ GATEHOUSE_DATA_DIR: dataDir, PORT: String(port), UPSTREAM_ISSUER: 'http://127.0.0.1:9', COOKIE_SECRET: randomBytes(32).toString('hex'), ...(options.refresh === true ? REFRESH_TTLS : {}), ...(options.backendUrl === undefined ? {} : { GATEHOUSE_BACKENDS: JSON.stringify({ [backendName]: { url: options.backendUrl } }) }) })
  // The gateway target's token is for the backend's resource, as a client's would be (RFC 8707).
  const resource = options.backendUrl === undefined ? config.resourceUrl : `${config.publicUrl}/mcp/${backendName}`
  const unused = async (): Promise<never> => { throw new Error('not used by the benchmark') }
  const logging = process.env.BENCH_GATEHOUSE_LOG === 'info'
  const app = Fastify({
    ...serverOptions,
    logger: logging ? { ...(serverOptions.logger as object), level: 'info', stream: { write: () => {} } } : false
  })
  // The refresh target measures the grant, not the per-address limiter (120/min on /token, one address here).
  if (options.refresh === true) app.addHook('onRoute', route => { if (route.url === '/token') route.config = { ...route.config, rateLimit: false } })
  await app.register(gatehouse, {
    config,
    services: {
      store,
      clock,
      keys,
      cipher,
      cookieSecret: config.cookieSecret!,
      upstream: { authorizationUrl: unused, completeLogin: unused, refresh: unused, revoke: unused },
      metadataDocuments: { fetch: unused },
      close: async () => { client.destroy(); await rm(dataDir, { recursive: true, force: true }) }
    }
  })
  await app.listen({ host: '127.0.0.1', port })
  closeServer = async () => { await app.close() }

  const now = clock.now()
  const identity = { sub: 'user-1', email: 'user@example.com', groups: ['engineering'] }
  const grantId = randomUUID()
  await store.saveGrant({ grantId, clientId: 'bench-client', identity, scope: ['mcp:read', 'mcp:write'], resource, createdAt: now, expiresAt: now + 86400 })
  if (options.refresh === true) {
    // A public client and one grant per connection, each with its first refresh token (held on the grant).
    const { newRefreshToken } = await import('../src/oauth/refresh-tokens.ts')
    await store.saveClient({ clientId: 'bench-client', tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/cb'], grantTypes: ['authorization_code', 'refresh_token'], responseTypes: ['code'], clientName: 'bench', createdAt: now, expiresAt: 0 })
    const refreshTokens: string[] = []
    for (let i = 0; i < 64; i++) {
      const connectionGrant = { grantId: randomUUID(), clientId: 'bench-client', identity, scope: ['mcp:read', 'mcp:write'], resource: config.resourceUrl, createdAt: now, expiresAt: now + config.ttl.grantMax }
      const first = newRefreshToken(connectionGrant, connectionGrant.scope, now, config.ttl.refreshToken)
      await store.saveGrant({ ...connectionGrant, refreshToken: first.record, retiredRefreshTokens: [] })
      refreshTokens.push(first.token)
    }
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'bench-client', refresh_token: REFRESH_TOKEN_SLOT }).toString()
    return { port, path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, expect: '"refresh_token"', refreshTokens }
  }
  const { token } = await issueAccessToken({ grantId, clientId: 'bench-client', identity }, ['mcp:read', 'mcp:write'], {
    keys, clock: SYSTEM_CLOCK, issuer: config.publicUrl, audience: resource, ttlSeconds: 3600
  })
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}` }
  if (options.backendName === 'everything') return { port, path: '/mcp/everything', headers, body: ECHO_CALL, expect: 'Echo: bench-echo', session: true }
  return { port, path: options.backendUrl === undefined ? '/mcp' : '/mcp/sdk', headers, body: TOOL_CALL, expect: 'user-1' }
}

/** The same server and token, answering the 2026-07-28 form of the same call. */
async function serveGatehouse2026 (): Promise<Target> {
  const target = await serveGatehouse()
  return { ...target, headers: { ...MCP_HEADERS_2026, authorization: target.headers.authorization! }, body: TOOL_CALL_2026, expect: '"resultType":"complete"' }
}

// ── load generator (parent) ──────────────────────────────────────────────────

interface Result {
  name: string
  requests: number
  errors: number
  seconds: number
  rps: number
  p50: number
  p99: number
  rssMaxMb: number
  /** CPU cores the server used (1.0 = one core busy all the time). */
  serverCpu: number
  loaderCpu: number
}

const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2 }

async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  return await new Promise(resolve => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Backends: alone on their CPU when pinned. */
const BACKENDS = new Set(['sdk', 'everything'])
/** When pinning: [the backends' CPU list, everyone else's, all CPUs]. */
let pinning: [string, string, string] | undefined
/** The targets run pinned (their processes, and the load generator during their turns). */
const pinned = new Set<string>()
let loaderCpus: string | undefined

/** The load generator's CPUs (all its threads) for the next target's turn. */
function pinLoader (cpuList: string): void {
  if (loaderCpus === cpuList) return
  if (spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' }).status !== 0) throw new Error('taskset failed')
  loaderCpus = cpuList
}

async function startChild (name: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess, target: Target }> {
  const port = await freePort()
  const nodeArgs = name === 'store' ? [] : (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  // `<target>@<dir>`: the same target served by another checkout (its scripts/bench.ts), to compare builds in one run.
  const [kind, dir] = name.split('@') as [string, string | undefined]
  const command = [process.execPath, ...nodeArgs, dir === undefined ? SELF : join(dir, 'scripts/bench.ts'), '--serve', kind]
  if (pinning !== undefined && pinned.has(name)) command.unshift('taskset', '-c', BACKENDS.has(name) ? pinning[0] : pinning[1])
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, ...env, BENCH_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const target = await new Promise<Target>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', line => {
      if (line.startsWith('ready ')) { lines.close(); resolve(JSON.parse(line.slice(6)) as Target) }
    })
    child.once('exit', code => reject(new Error(`${name} server exited with ${code}`)))
  })
  child.stdout!.resume()
  return { child, target }
}

async function rssMb (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  return kb === undefined ? 0 : Number(kb) / 1024
}

/** utime + stime of a process, in seconds (Linux /proc; 0 elsewhere). */
async function cpuSeconds (pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100
}

/**
 * One keep-alive HTTP/1.1 connection on a raw socket: writes a prebuilt request, reads exactly one response
 * (Content-Length or chunked), repeat. Far cheaper per request than a general client, so the load generator
 * is not what limits the numbers (the CPU column shows who is busy).
 */
class RawConnection {
  readonly #socket: Socket
  #buffer = Buffer.alloc(0)
  #done: ((ok: boolean) => void) | undefined
  #expect: Buffer
  /** The last answer's body (the refresh target reads its refresh_token). */
  lastBody: Buffer = Buffer.alloc(0)

  constructor (socket: Socket, expect: string) {
    this.#socket = socket
    this.#expect = Buffer.from(expect)
    socket.setNoDelay(true)
    socket.on('data', chunk => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
      this.#parse()
    })
    socket.on('error', () => this.#finish(false))
    socket.on('close', () => this.#finish(false))
  }

  static async open (port: number, expect: string): Promise<RawConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s))
      s.once('error', reject)
    })
    return new RawConnection(socket, expect)
  }

  send (request: Buffer): Promise<boolean> {
    return new Promise(resolve => {
      this.#done = resolve
      this.#socket.write(request)
    })
  }

  close (): void { this.#socket.destroy() }

  #finish (ok: boolean): void {
    const done = this.#done
    this.#done = undefined
    done?.(ok)
  }

  #parse (): void {
    const buffer = this.#buffer
    const headerEnd = buffer.indexOf('\r\n\r\n')
    if (headerEnd === -1) return
    const head = buffer.toString('latin1', 0, headerEnd).toLowerCase()
    const ok = head.startsWith('http/1.1 200')
    let end: number
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head)
    if (length !== null) {
      end = headerEnd + 4 + Number(length[1])
      if (buffer.length < end) return
    } else if (head.includes('transfer-encoding: chunked')) {
      let at = headerEnd + 4
      for (;;) {
        const lineEnd = buffer.indexOf('\r\n', at)
        if (lineEnd === -1) return
        const size = parseInt(buffer.toString('latin1', at, lineEnd), 16)
        at = lineEnd + 2 + size + 2
        if (at > buffer.length) return
        if (size === 0) break
      }
      end = at
    } else {
      this.#finish(false)
      return
    }
    const body = buffer.subarray(headerEnd + 4, end)
    this.lastBody = body
    this.#buffer = buffer.subarray(end)
    this.#finish(ok && body.includes(this.#expect))
  }
}

function rawRequest (target: Target): Buffer {
  const body = Buffer.from(target.body)
  const headers = Object.entries({ ...target.headers, host: `127.0.0.1:${target.port}`, 'content-length': String(body.length), connection: 'keep-alive' })
    .map(([k, v]) => `${k}: ${v}\r\n`).join('')
  return Buffer.concat([Buffer.from(`POST ${target.path} HTTP/1.1\r\n${headers}\r\n`), body])
}

/** Stateful targets: each connection's session id, opened once and kept across warm-up and rounds. */
const sessionsOf = new Map<Target, string[]>()

/** Opens a session as an MCP client does (initialize, then notifications/initialized) and returns its id. */
async function openSession (target: Target): Promise<string> {
  const url = `http://127.0.0.1:${target.port}${target.path}`
  const initialize = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } })
  const response = await fetch(url, { method: 'POST', headers: target.headers, body: initialize })
  const id = response.headers.get('mcp-session-id')
  await response.text()
  if (!response.ok || id === null) throw new Error(`initialize at ${url} answered ${response.status} without a session id`)
  const initialized = await fetch(url, { method: 'POST', headers: { ...target.headers, 'mcp-session-id': id }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  await initialized.text()
  if (initialized.status !== 202) throw new Error(`notifications/initialized at ${url} answered ${initialized.status}`)
  return id
}

/** Refresh targets: each connection's current refresh token, carried across warm-up and rounds. */
const refreshChains = new Map<Target, string[]>()
const REFRESH_IN_ANSWER = /"refresh_token":"([^"]+)"/

/** `backendPid`: for a gateway target, the backend it forwards to, whose CPU is measured too. */
async function load (target: Target, connections: number, seconds: number, record: boolean, pid: number, backendPid?: number) {
  const request = rawRequest(target)
  const chains = target.refreshTokens === undefined ? undefined : refreshChains.get(target) ?? [...target.refreshTokens]
  if (chains !== undefined) {
    refreshChains.set(target, chains)
    if (connections > chains.length) throw new Error(`the refresh target has ${chains.length} refresh tokens for ${connections} connections`)
  }
  let perConnection = Array.from({ length: connections }, () => request)
  if (target.session === true) {
    const sessions = sessionsOf.get(target) ?? []
    while (sessions.length < connections) sessions.push(await openSession(target))
    sessionsOf.set(target, sessions)
    perConnection = sessions.slice(0, connections).map(id => rawRequest({ ...target, headers: { ...target.headers, 'mcp-session-id': id } }))
  }
  const pool = await Promise.all(Array.from({ length: connections }, async () => await RawConnection.open(target.port, target.expect)))
  const latencies: number[] = []
  let requests = 0
  let errors = 0
  let rssMax = 0
  const deadline = performance.now() + seconds * 1000
  const sampler = setInterval(() => { void rssMb(pid).then(mb => { rssMax = Math.max(rssMax, mb) }) }, 200)
  async function worker (connection: RawConnection, index: number): Promise<void> {
    while (performance.now() < deadline) {
      const start = performance.now()
      const next = chains === undefined ? perConnection[index]! : rawRequest({ ...target, body: target.body.replace(REFRESH_TOKEN_SLOT, chains[index]!) })
      if (!await connection.send(next)) { errors++; return }
      if (chains !== undefined) {
        const rotated = REFRESH_IN_ANSWER.exec(connection.lastBody.toString('utf8'))?.[1]
        if (rotated === undefined) { errors++; return }
        chains[index] = rotated
      }
      if (record) latencies.push(performance.now() - start)
      requests++
    }
  }
  const started = performance.now()
  const cpuBefore = await cpuSeconds(pid)
  const backendBefore = backendPid === undefined ? 0 : await cpuSeconds(backendPid)
  const ownBefore = process.cpuUsage()
  await Promise.all(pool.map((connection, index) => worker(connection, index)))
  const elapsed = (performance.now() - started) / 1000
  const serverCpu = (await cpuSeconds(pid) - cpuBefore) / elapsed
  const backendCpu = backendPid === undefined ? 0 : (await cpuSeconds(backendPid) - backendBefore) / elapsed
  const own = process.cpuUsage(ownBefore)
  const loaderCpu = (own.user + own.system) / 1e6 / elapsed
  clearInterval(sampler)
  for (const connection of pool) connection.close()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { requests, errors, seconds: elapsed, p50: at(0.5), p99: at(0.99), rssMax, serverCpu, backendCpu, loaderCpu }
}

const LABELS: Record<string, string> = {
  echo: '(a) bare Fastify echo',
  sdk: '(b) MCP SDK stateless Express example',
  gatehouse: '(c) gatehouse POST /mcp tools/call',
  'gatehouse-2026': '(d) gatehouse POST /mcp tools/call, MCP 2026-07-28',
  refresh: '(e) gatehouse POST /token refresh_token',
  gateway: '(f) (b) through gatehouse\'s gateway, POST /mcp/sdk',
  everything: '(g) server-everything tools/call echo, direct',
  'gateway-everything': '(h) (g) through gatehouse\'s gateway, POST /mcp/everything'
}

async function main (): Promise<void> {
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 16)
  const duration = Number(process.env.BENCH_DURATION ?? 5)
  const warmup = Number(process.env.BENCH_WARMUP ?? 2)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const names = (process.env.BENCH_TARGETS ?? 'echo,sdk,gatehouse,gatehouse-2026,refresh,everything,gateway-everything').split(',').map(s => s.trim()).filter(Boolean)
  const cpuCount = cpus().length
  const pin = process.env.BENCH_PIN ?? (cpuCount >= 2 && spawnSync('taskset', ['-V']).status === 0 ? '1' : '0')
  if (pin === '1') {
    pinning = [String(cpuCount - 1), cpuCount === 2 ? '0' : `0-${cpuCount - 2}`, `0-${cpuCount - 1}`]
    // The gateway comparisons run pinned: (g) and (h) always; (b) and (f) when (f) runs (then (c)/(b) sees a
    // pinned (b) too). The store and every other target keep all CPUs.
    for (const name of names) if (name === 'everything' || name.startsWith('gateway-everything')) pinned.add(name)
    if (names.includes('gateway')) { pinned.add('sdk'); pinned.add('gateway') }
  }
  const loadAverage = (): string => loadavg().map(v => v.toFixed(2)).join(' ')
  process.stdout.write(`node ${process.version}, ${cpuCount} CPU (${cpus()[0]?.model ?? '?'}), ${connections} connections, ${warmup} s warm-up, then ${rounds} rounds of ${duration} s per target (targets alternate within each round)${pinning === undefined || pinned.size === 0 ? '' : `; ${[...pinned].join(', ')} pinned: backends to CPU ${pinning[0]}, gatehouse and the load generator (during their turns) to CPU ${pinning[1]}`}; load average ${loadAverage()}\n`)
  // All servers run for the whole benchmark and take turns, round after round: the machine's other load
  // drifts over minutes, and alternating puts every target under the same drift (each ratio is also
  // computed within its round).
  const children = new Map<string, { child: ChildProcess, target: Target }>()
  const perRound: Array<Map<string, Awaited<ReturnType<typeof load>>>> = []
  let store: ChildProcess | undefined
  try {
    const storeEnv: Record<string, string> = {}
    if (names.some(name => name.startsWith('gatehouse') || name === 'refresh' || name.startsWith('gateway'))) {
      const started = await startChild('store')
      store = started.child
      storeEnv.BENCH_STORE_ENDPOINT = `http://127.0.0.1:${started.target.port}`
    }
    for (const name of names) {
      // The gateway forwards to (b): started after it (list sdk first), with its URL.
      const sdk = children.get('sdk')
      if (name === 'gateway' && sdk === undefined) throw new Error('BENCH_TARGETS: list sdk before gateway (the gateway forwards to it)')
      const everything = children.get('everything')
      if (name.startsWith('gateway-everything') && everything === undefined) throw new Error('BENCH_TARGETS: list everything before gateway-everything (the gateway forwards to it)')
      const backend: Record<string, string> = name === 'gateway' ? { BENCH_BACKEND_URL: `http://127.0.0.1:${sdk!.target.port}/mcp` }
        : name.startsWith('gateway-everything') ? { BENCH_BACKEND_URL: `http://127.0.0.1:${everything!.target.port}/mcp` } : {}
      children.set(name, await startChild(name, { ...storeEnv, ...backend }))
    }
    const backendOf = (name: string): number | undefined => (name === 'gateway' ? children.get('sdk') : name.startsWith('gateway-everything') ? children.get('everything') : undefined)?.child.pid
    const loaderFor = (name: string): void => { if (pinning !== undefined) pinLoader(pinned.has(name) ? pinning[1] : pinning[2]) }
    for (const [name, { child, target }] of children) { loaderFor(name); await load(target, connections, warmup, false, child.pid!, backendOf(name)) }
    for (let round = 0; round < rounds; round++) {
      const measured = new Map<string, Awaited<ReturnType<typeof load>>>()
      for (const [name, { child, target }] of children) {
        loaderFor(name)
        const r = await load(target, connections, duration, true, child.pid!, backendOf(name))
        measured.set(name, r)
        const backendCpu = backendOf(name) === undefined ? '' : `, backend CPU ${r.backendCpu.toFixed(2)} (${Math.round(1e6 * r.backendCpu * r.seconds / r.requests)} µs per call)`
        process.stdout.write(`round ${round + 1} ${LABELS[name] ?? name}: ${Math.round(r.requests / r.seconds)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}, server CPU ${r.serverCpu.toFixed(2)} (${Math.round(1e6 * r.serverCpu * r.seconds / Math.max(1, r.requests))} µs per call)${backendCpu}, load generator CPU ${r.loaderCpu.toFixed(2)}, RSS max ${r.rssMax.toFixed(0)} MB\n`)
      }
      perRound.push(measured)
    }
  } finally {
    for (const child of [...[...children.values()].map(c => c.child), ...(store === undefined ? [] : [store])]) {
      child.kill('SIGTERM')
      await new Promise(resolve => child.once('exit', resolve))
    }
  }
  const results = new Map<string, Result>()
  for (const name of names) {
    const runs = perRound.map(m => m.get(name)!)
    const requests = runs.reduce((sum, r) => sum + r.requests, 0)
    const seconds = runs.reduce((sum, r) => sum + r.seconds, 0)
    results.set(name, {
      name, requests, seconds, rps: requests / seconds,
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      p50: median(runs.map(r => r.p50)), p99: median(runs.map(r => r.p99)),
      rssMaxMb: Math.max(...runs.map(r => r.rssMax)),
      serverCpu: runs.reduce((sum, r) => sum + r.serverCpu * r.seconds, 0) / seconds,
      loaderCpu: runs.reduce((sum, r) => sum + r.loaderCpu * r.seconds, 0) / seconds
    })
  }
  process.stdout.write('\n| target | req/s | p50 ms | p99 ms | errors | RSS under load (max) | server CPU (cores) | µs CPU / request |\n|---|---:|---:|---:|---:|---:|---:|---:|\n')
  for (const r of results.values()) {
    process.stdout.write(`| ${LABELS[r.name] ?? r.name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.rssMaxMb.toFixed(0)} MB | ${r.serverCpu.toFixed(2)} | ${Math.round(1e6 * r.serverCpu / r.rps)} |\n`)
  }
  const a = results.get('echo')
  const b = results.get('sdk')
  const c = results.get('gatehouse')
  const ratios = (x: string, y: string): number[] => perRound.map(m => (m.get(x)!.requests / m.get(x)!.seconds) / (m.get(y)!.requests / m.get(y)!.seconds))
  const list = (values: number[], format: (v: number) => string): string => values.map(format).join(', ')
  if (c !== undefined && b !== undefined) {
    const r = ratios('gatehouse', 'sdk')
    process.stdout.write(`\n(c)/(b) = ${median(r).toFixed(2)}× median of the rounds (${list(r, v => `${v.toFixed(2)}×`)}; target ≥ 6×)\n`)
  }
  if (c !== undefined && a !== undefined) {
    const r = ratios('gatehouse', 'echo')
    process.stdout.write(`(c)/(a) = ${(100 * median(r)).toFixed(1)} % median of the rounds (${list(r, v => `${(100 * v).toFixed(1)} %`)}; target ≥ 45 %)\n`)
    process.stdout.write(`RSS (c)/(a) = ${(c.rssMaxMb / a.rssMaxMb).toFixed(2)}× (max under load; target ≤ 2×)\n`)
  }
  const e = results.get('refresh')
  if (e !== undefined) process.stdout.write(`(e) refresh grant: ${Math.round(e.rps)} req/s, ${Math.round(1e6 * e.serverCpu / e.rps)} µs CPU per refresh${a === undefined ? '' : `, ${(100 * median(ratios('refresh', 'echo'))).toFixed(1)} % of (a)`}\n`)
  if (c !== undefined && results.has('gatehouse-2026')) {
    const r = ratios('gatehouse-2026', 'gatehouse')
    process.stdout.write(`(d)/(c) = ${median(r).toFixed(2)}× median of the rounds (${list(r, v => `${v.toFixed(2)}×`)}; target ≥ 1: the 2026 era no slower)\n`)
  }
  const f = results.get('gateway')
  if (f !== undefined && b !== undefined) {
    const r = ratios('gateway', 'sdk')
    process.stdout.write(`(f)/(b) = ${(100 * median(r)).toFixed(1)} % median of the rounds (${list(r, v => `${(100 * v).toFixed(1)} %`)}; target ≥ 85 %); p50 overhead ${(f.p50 - b.p50).toFixed(2)} ms (target ≤ 1 ms)\n`)
  }
  const g = results.get('everything')
  for (const [name, h] of results) {
    if (g === undefined || !name.startsWith('gateway-everything')) continue
    const r = ratios(name, 'everything')
    const overheads = perRound.map(m => m.get(name)!.p50 - m.get('everything')!.p50)
    process.stdout.write(`(h)/(g)${name.includes('@') ? ` [${name}]` : ''} = ${(100 * median(r)).toFixed(1)} % median of the rounds (${list(r, v => `${(100 * v).toFixed(1)} %`)}; target ≥ 85 %); p50 overhead ${median(overheads).toFixed(2)} ms median of the rounds (${list(overheads, v => v.toFixed(2))}; target ≤ 1 ms); gateway CPU per call ${Math.round(1e6 * h.serverCpu / h.rps)} µs; ${connections} connections\n`)
  }
  process.stdout.write(`load average at the end ${loadAverage()}\n`)
  const failed = [...results.values()].some(r => r.errors > 0)
  if (failed) { process.stdout.write('some requests failed: the numbers above are not valid\n'); process.exitCode = 1 }
}

const serveIndex = process.argv.indexOf('--serve')
if (serveIndex !== -1) {
  const name = process.argv[serveIndex + 1]
  const serve = name === 'echo' ? serveEcho : name === 'sdk' ? serveSdkExpress : name === 'gatehouse' ? serveGatehouse : name === 'gatehouse-2026' ? serveGatehouse2026
    : name === 'refresh' ? async () => await serveGatehouse({ refresh: true }) : name === 'store' ? serveStore
      : name === 'gateway' ? async () => await serveGatehouse({ backendUrl: process.env.BENCH_BACKEND_URL! })
        : name === 'everything' ? serveEverything
          : name === 'gateway-everything' ? async () => await serveGatehouse({ backendUrl: process.env.BENCH_BACKEND_URL!, backendName: 'everything' }) : undefined
  if (serve === undefined) throw new Error(`unknown target ${name}`)
  const target = await serve()
  process.once('SIGTERM', () => { void closeServer().finally(() => process.exit(0)) })
  process.stdout.write(`ready ${JSON.stringify(target)}\n`)
} else {
  await main()
}
