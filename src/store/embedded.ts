// The embedded DynamoDB-compatible emulator (dynalite, on LevelDB) that local runs and tests start by
// themselves, so a newcomer needs no AWS account and no Docker. Never in Lambda.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'

interface DynaliteOptions {
  path?: string
  createTableMs?: number
  deleteTableMs?: number
  updateTableMs?: number
}

// dynalite is CommonJS without type declarations; this is the one call we make. Loaded on first use so the
// Lambda bundle (which never starts it) neither carries nor evaluates it.
function loadDynalite (): (options: DynaliteOptions) => Server {
  return createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server
}

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

/** Another emulator (in this process or another one) already uses the data dir. */
export class EmbeddedStoreBusyError extends Error {
  constructor (message: string) { super(message); this.name = 'EmbeddedStoreBusyError' }
}

export async function startEmbeddedStore (options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  // A Lambda's disk is ephemeral and per-instance: an emulator there would silently lose grants.
  if (options.inLambda) throw new EmbeddedStoreRefusedError('the embedded store is refused in Lambda; use DynamoDB')
  const dynalite = loadDynalite()
  const path = resolve(options.dataDir, 'dynamodb')
  await mkdir(path, { recursive: true })
  const release = await lockDataDir(path)
  // Tables become ACTIVE at once: no reason to make local start-up and tests wait.
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
  } catch (err) {
    await release()
    throw err
  }
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
      }).finally(release)
      return closing
    }
  }
}

const OPEN_PATHS = new Set<string>()

/**
 * LevelDB allows one opener per directory, and dynalite reports a second one by throwing from a
 * callback (crashing the process). A pid file beside the directory turns that into a clear error.
 */
async function lockDataDir (path: string): Promise<() => Promise<void>> {
  const busy = (holder: string): EmbeddedStoreBusyError =>
    new EmbeddedStoreBusyError(`the embedded store in ${path} is in use by ${holder}; stop it or use another GATEHOUSE_DATA_DIR`)
  if (OPEN_PATHS.has(path)) throw busy('this process')
  const pidFile = `${path}.pid`
  try {
    await writeFile(pidFile, String(process.pid), { flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) throw busy(`process ${pid}`)
    // Left behind by a process that died: take it over.
    await writeFile(pidFile, String(process.pid))
  }
  OPEN_PATHS.add(path)
  return async () => {
    OPEN_PATHS.delete(path)
    await rm(pidFile, { force: true })
  }
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0) // signal 0 only checks that the process exists
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
