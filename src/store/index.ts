// Opens the store the configuration asks for: the embedded emulator (local runs), an explicit
// endpoint (DynamoDB Local, LocalStack) or real DynamoDB, whose table Terraform owns.
// Nothing here imports the AWS SDK statically: the Lambda reaches DynamoDB through the JSON client, and the
// SDK client (./dynamo-client.ts, ./table.ts) is loaded only where it is used.
import { AwsJsonClient, DYNAMODB } from '../aws/json-client.ts'
import type { AwsCredentials } from '../aws/sigv4.ts'
import { SYSTEM_CLOCK, type Clock } from '../ports/clock.ts'
import { StoreUnavailableError } from '../ports/store.ts'
import { DynamoStore } from './dynamo-store.ts'
import { startEmbeddedStore, type EmbeddedStore } from './embedded.ts'

export { DynamoStore, type DynamoStoreOptions } from './dynamo-store.ts'
export { startEmbeddedStore, EmbeddedStoreBusyError, EmbeddedStoreRefusedError, type EmbeddedStore, type EmbeddedStoreOptions } from './embedded.ts'

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
  /**
   * The Lambda's role credentials (from its environment): DynamoDB is then reached through the JSON client,
   * with no SDK client to load. Without them, the SDK client and its credential chain.
   */
  credentials?: AwsCredentials | undefined
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
  if (options.credentials !== undefined && !options.embedded) {
    // The same bounds as the SDK client below: attempts within the store's deadline, each under the timeout.
    const client = new AwsJsonClient(DYNAMODB, { region: options.region, endpoint, credentials: options.credentials, attemptTimeoutMs: options.timeoutMs, maxAttempts: 2 })
    // No ensureTable: this path is the Lambda's, where Terraform owns the table (a missing one shows up in ping()).
    const store = new DynamoStore({ client, table: options.table, clock: options.clock ?? SYSTEM_CLOCK, timeoutMs: options.timeoutMs })
    return { store, endpoint, close: async () => { client.destroy() } }
  }
  const [{ createDynamoClient }, { ensureTable }] = await Promise.all([import('./dynamo-client.ts'), import('./table.ts')])
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
