// The embedded DynamoDB-compatible emulator (dynalite, on LevelDB) that local runs and tests start by
// themselves, so a newcomer needs no AWS account and no Docker. Never in Lambda.
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

interface DynaliteOptions {
  path?: string
  createTableMs?: number
  deleteTableMs?: number
  updateTableMs?: number
}

// dynalite is CommonJS without type declarations; this is the one call we make.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server

export interface EmbeddedStoreOptions {
  /** The store persists under `<dataDir>/dynamodb`. */
  dataDir: string
  inLambda: boolean
}

export interface EmbeddedStore {
  /** http://127.0.0.1:<port> */
  endpoint: string
  close (): Promise<void>
}

export class EmbeddedStoreRefusedError extends Error {
  constructor (message: string) { super(message); this.name = 'EmbeddedStoreRefusedError' }
}

export async function startEmbeddedStore (options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  // A Lambda's disk is ephemeral and per-instance: an emulator there would silently lose grants.
  if (options.inLambda) throw new EmbeddedStoreRefusedError('the embedded store is refused in Lambda; use DynamoDB')
  const path = join(options.dataDir, 'dynamodb')
  await mkdir(path, { recursive: true })
  // Tables become ACTIVE at once: no reason to make local start-up and tests wait.
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from SDK clients would hold close() open; idle ones go now, busy ones
        // finish their request first (dynalite then flushes and closes LevelDB).
        server.closeIdleConnections()
        const force = setTimeout(() => server.closeAllConnections(), 2000)
        force.unref()
        server.close(err => { clearTimeout(force); if (err) reject(err); else resolve() })
      })
      return closing
    }
  }
}
