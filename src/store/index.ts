// Opens the store the configuration asks for: the embedded emulator (local runs), an explicit
// endpoint (DynamoDB Local, LocalStack) or real DynamoDB, whose table Terraform owns.
import { SYSTEM_CLOCK, type Clock } from '../ports/clock.ts'
import { StoreUnavailableError } from '../ports/store.ts'
import { createDynamoClient } from './dynamo-client.ts'
import { DynamoStore } from './dynamo-store.ts'
import { startEmbeddedStore, type EmbeddedStore } from './embedded.ts'
import { ensureTable } from './table.ts'

export { DynamoStore, type DynamoStoreOptions } from './dynamo-store.ts'
export { createDynamoClient, isLoopbackEndpoint, type DynamoClientOptions } from './dynamo-client.ts'
export { startEmbeddedStore, EmbeddedStoreBusyError, EmbeddedStoreRefusedError, type EmbeddedStore, type EmbeddedStoreOptions } from './embedded.ts'
export { ensureTable, TTL_ATTRIBUTE, type EnsureTableResult } from './table.ts'

/** `Config['store']` plus what start-up needs from the rest of the config. */
export interface OpenStoreOptions {
  table: string
  region: string
  endpoint: string | undefined
  timeoutMs: number
  embedded: boolean
  dataDir: string
  inLambda: boolean
  clock?: Clock
}

export interface OpenedStore {
  store: DynamoStore
  /** The endpoint in use; undefined = the region's real DynamoDB endpoint. */
  endpoint: string | undefined
  close (): Promise<void>
}

export async function openStore (options: OpenStoreOptions): Promise<OpenedStore> {
  let embedded: EmbeddedStore | undefined
  let endpoint = options.endpoint
  if (options.embedded) {
    embedded = await startEmbeddedStore({ dataDir: options.dataDir, inLambda: options.inLambda })
    endpoint = embedded.endpoint
  }
  const client = createDynamoClient({ region: options.region, endpoint, timeoutMs: options.timeoutMs })
  const close = async (): Promise<void> => {
    client.destroy()
    await embedded?.close()
  }
  try {
    // Only tables we run ourselves are created here; in AWS a missing table shows up in ping().
    if (endpoint !== undefined) await ensureTable(client, options.table)
  } catch (err) {
    await close()
    throw new StoreUnavailableError(`cannot prepare table ${options.table} at ${endpoint}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  const store = new DynamoStore({ client, table: options.table, clock: options.clock ?? SYSTEM_CLOCK, timeoutMs: options.timeoutMs })
  return { store, endpoint, close }
}
