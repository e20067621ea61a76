// A real store for tests: the embedded emulator in a fresh temp data dir, the real DynamoDB adapter
// (what ships is what is tested), and a clock the test can move.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { SYSTEM_CLOCK, type Clock } from '../../src/ports/clock.ts'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { startEmbeddedStore } from '../../src/store/embedded.ts'
import { ensureTable } from '../../src/store/table.ts'
import type { DynamoApi } from '../../src/store/dynamo-table.ts'
import { AwsJsonClient, DYNAMODB } from '../../src/aws/json-client.ts'

/**
 * Which client the store under test uses: the SDK's (default), or with TEST_STORE_CLIENT=json the JSON client
 * the Lambda uses (src/aws/json-client.ts, as openStore builds it with credentials). The *.json-client.test.ts
 * files set it and run a store test file again, so both clients pass the same tests.
 */
export const STORE_CLIENT: 'sdk' | 'json' = process.env.TEST_STORE_CLIENT === 'json' ? 'json' : 'sdk'

/** A client for the store at `endpoint`, of the kind STORE_CLIENT says, and how to release it. */
export function storeClient (endpoint: string, timeoutMs = 3000): { client: DynamoApi | ReturnType<typeof createDynamoClient>, destroy: () => void } {
  if (STORE_CLIENT === 'json') {
    const client = new AwsJsonClient(DYNAMODB, { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'gatehouse-local', secretAccessKey: 'gatehouse-local' }, attemptTimeoutMs: timeoutMs, maxAttempts: 2 })
    return { client, destroy: () => client.destroy() }
  }
  const client = createDynamoClient({ region: 'us-east-1', endpoint, timeoutMs })
  return { client, destroy: () => client.destroy() }
}

export interface FakeClock extends Clock {
  /** Moves time forward by `seconds`. */
  advance (seconds: number): void
  set (epochSeconds: number): void
}

/** Starts at `start` (default: the real current time) and moves only when told to. */
export function createFakeClock (start = Math.floor(Date.now() / 1000)): FakeClock {
  let current = start
  return {
    now: () => current,
    advance: (seconds: number) => { current += seconds },
    set: (epochSeconds: number) => { current = epochSeconds }
  }
}

export interface TestStoreOptions {
  /** Default: the system clock. Pass createFakeClock() to control expiry. */
  clock?: Clock
  timeoutMs?: number
  table?: string
  /** Reuse a data dir (restart tests); default: a fresh temp dir, removed on close. */
  dataDir?: string
}

export interface TestStore {
  store: DynamoStore
  endpoint: string
  table: string
  dataDir: string
  clock: Clock
  /** Stops the emulator; removes the data dir only if this call created it. Idempotent. */
  close (): Promise<void>
}

export async function startTestStore (t?: Test, options: TestStoreOptions = {}): Promise<TestStore> {
  const ownDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'gatehouse-store-'))
  const table = options.table ?? 'gatehouse-test'
  const clock = options.clock ?? SYSTEM_CLOCK
  const timeoutMs = options.timeoutMs ?? 3000
  const emulator = await startEmbeddedStore({ dataDir, inLambda: false })
  const client = createDynamoClient({ region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs })
  await ensureTable(client, table)
  const used = STORE_CLIENT === 'sdk' ? { client, destroy: () => {} } : storeClient(emulator.endpoint, timeoutMs)
  const store = new DynamoStore({ client: used.client, table, clock, timeoutMs })
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      client.destroy()
      used.destroy()
      await emulator.close()
      if (ownDir) await rm(dataDir, { recursive: true, force: true })
    })()
    return closed
  }
  t?.teardown(close)
  return { store, endpoint: emulator.endpoint, table, dataDir, clock, close }
}
