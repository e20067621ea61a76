// Builds the real gatehouse app for tests: the real DynamoDB adapter on the embedded emulator, local keys
// in a temp dir, and either app.inject() or a real loopback port whose URL is the app's public URL.
import Fastify, { type FastifyInstance } from 'fastify'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import gatehouse, { options as serverOptions } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { Services } from '../../src/compose.ts'
import { startTestStore, type TestStore } from './store.ts'
import type { Clock } from '../../src/ports/clock.ts'
import { freePort } from './net.ts'
import type { McpExtension } from '../../src/mcp/extension.ts'

export { freePort } from './net.ts'

export interface TestAppOptions {
  /** Extra environment for loadConfig (e.g. UPSTREAM_ISSUER, GRANT_CACHE_TTL). */
  env?: Record<string, string>
  services?: Partial<Services>
  clock?: Clock
  /** Listen on a real loopback port (its URL becomes GATEHOUSE_PUBLIC_URL). */
  listen?: boolean
  /** Reuse a store (e.g. two apps, or restart). */
  store?: TestStore
  /** Listen on this port (with listen: true); default a free one. */
  port?: number
  /** Capture log lines (JSON strings) instead of discarding them. */
  logLines?: string[]
  /** More MCP capabilities, tools and methods on /mcp (AppOptions.mcpExtension: the conformance fixtures). */
  mcpExtension?: McpExtension
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  store: TestStore
  /** http://127.0.0.1:port when listening; the configured public URL otherwise. */
  url: string
  dataDir: string
}

export async function buildTestApp (t: Test, options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-app-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const store = options.store ?? await startTestStore(t, options.clock === undefined ? {} : { clock: options.clock })
  const port = options.listen === true ? options.port ?? await freePort() : 3000
  const config = loadConfig({
    GATEHOUSE_DATA_DIR: dataDir,
    PORT: String(port),
    UPSTREAM_ISSUER: 'http://127.0.0.1:9',
    ...options.env
  })
  const logLines = options.logLines
  const app = Fastify({
    ...serverOptions,
    logger: logLines === undefined
      ? false
      : { ...(serverOptions.logger as object), level: 'info', stream: { write: (line: string) => { logLines.push(line) } } }
  })
  await app.register(gatehouse, {
    config,
    services: { store: store.store, ...(options.clock === undefined ? {} : { clock: options.clock }), ...options.services },
    ...(options.mcpExtension === undefined ? {} : { mcpExtension: options.mcpExtension })
  })
  t.teardown(() => app.close())
  await app.ready()
  if (options.listen === true) await app.listen({ host: '127.0.0.1', port })
  return { app, config, store, url: config.publicUrl, dataDir }
}
