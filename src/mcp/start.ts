// The MCP side of the composition: the demo dataset on local runs, the tools this deployment offers, the
// shared server and the endpoint both eras go through. src/routes/mcp.ts calls it once and stays a route.
import type { Config } from '../config.ts'
import type { AuditLog } from '../ports/audit.ts'
import type { Cipher } from '../ports/cipher.ts'
import type { Clock } from '../ports/clock.ts'
import type { DatasetStore } from '../ports/dataset.ts'
import type { GrantStore } from '../ports/store.ts'
import type { StreamEventStore } from '../ports/stream-events.ts'
import { connectorTools } from '../connectors/index.ts'
import { seedDatasetIfEmpty } from './dataset.ts'
import { McpEndpoint } from './endpoint.ts'
import { ResumableStreams } from './resumable.ts'
import { GatehouseMcpServer } from './server.ts'
import { TOOLS, type Tool } from './tools/index.ts'
import type { McpExtension } from './extension.ts'

const DOWNSTREAM_TIMEOUT_MS = 10_000

interface Logger {
  info: (fields: Record<string, unknown>, message: string) => void
  warn: (fields: Record<string, unknown>, message: string) => void
  error: (fields: Record<string, unknown>, message: string) => void
}

export interface StartMcpOptions {
  config: Config
  dataset: DatasetStore
  /** Where event-stream answers are kept so that a client can resume them (GET + Last-Event-ID). */
  streamEvents: StreamEventStore
  grants: Pick<GrantStore, 'findGrant'>
  cipher: Cipher
  clock: Clock
  audit: AuditLog
  log: Logger
  /** Tools added after the built-in ones and the configured connector packs. */
  extraTools?: readonly Tool[]
  /** More capabilities, tools and methods: the conformance tests' fixtures, never the production app's. */
  extension?: McpExtension
}

export interface StartedMcp {
  endpoint: McpEndpoint
  close: () => Promise<void>
}

export async function startMcp (options: StartMcpOptions): Promise<StartedMcp> {
  const { config, log } = options
  // Local runs seed the sample dataset on start; on AWS `scripts/seed-data.ts` does it once, so a cold
  // start makes no store call it does not need.
  if (!config.inLambda) {
    try {
      const seeded = await seedDatasetIfEmpty(options.dataset, options.clock)
      if (seeded > 0) log.info({ rows: seeded }, 'sample dataset seeded')
    } catch (error) {
      log.warn({ err: error }, 'sample dataset not seeded (store unavailable); query_data will show what exists')
    }
  }
  const server = new GatehouseMcpServer({
    // The JIRA and Jenkins packs join only when configured.
    tools: [...TOOLS, ...connectorTools(config.connectors, { audit: options.audit }), ...options.extraTools ?? []],
    deps: {
      dataset: options.dataset,
      grants: options.grants,
      cipher: options.cipher,
      clock: options.clock,
      // Resource-server mode holds no upstream tokens, and forwarding the caller's own token would be
      // token passthrough: no on-behalf-of calls there.
      downstreamUrl: config.mode === 'authorization-server' ? config.downstreamUrl : undefined,
      downstreamTimeoutMs: DOWNSTREAM_TIMEOUT_MS,
      fetch: globalThis.fetch
    },
    audit: options.audit,
    log,
    ...(options.extension === undefined ? {} : { extension: options.extension })
  })
  await server.connect()
  const streams = new ResumableStreams({ store: options.streamEvents, clock: options.clock, log })
  const endpoint = new McpEndpoint({ server, audit: options.audit, clock: options.clock, streams, closeStreamsEarly: !config.inLambda, scopes: config.scopes })
  return { endpoint, close: async () => { await server.close() } }
}
