// The embedded emulator: what `npm start` and the tests run. Data must survive a restart, and it must
// never run inside Lambda.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StoreUnavailableError } from '../../src/ports/store.ts'
import { DynamoStore, EmbeddedStoreBusyError, EmbeddedStoreRefusedError, openStore, startEmbeddedStore } from '../../src/store/index.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0, fullClient, grant } from './fixtures.ts'

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-embedded-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('data survives closing and restarting the emulator with the same data dir', async t => {
  const dataDir = await tempDir(t)
  const clock = createFakeClock(T0)
  const client = fullClient()
  const g = grant()

  const first = await startTestStore(undefined, { dataDir, clock })
  await first.store.saveClient(client)
  await first.store.saveGrant(g)
  await first.store.revokeGrant(g.grantId, T0 + 1)
  await first.close()

  const second = await startTestStore(t, { dataDir, clock })
  t.not(second.endpoint, '', 'a new emulator is listening')
  t.strictSame(await second.store.findClient(client.clientId), client)
  t.strictSame(await second.store.findGrant(g.grantId), { ...g, revokedAt: T0 + 1 })
})

t.test('openStore with embedded: true starts the emulator, creates the table and serves the store', async t => {
  const dataDir = await tempDir(t)
  const opened = await openStore({ table: 'gatehouse', region: 'us-east-1', endpoint: undefined, timeoutMs: 2000, embedded: true, dataDir, inLambda: false })
  t.teardown(() => opened.close())
  t.match(opened.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
  await t.resolves(opened.store.ping())
  const client = fullClient()
  await opened.store.saveClient(client)
  t.strictSame(await opened.store.findClient(client.clientId), client)
})

t.test('openStore against an explicit endpoint creates the table there when it is missing', async t => {
  const dataDir = await tempDir(t)
  const emulator = await startEmbeddedStore({ dataDir, inLambda: false })
  t.teardown(() => emulator.close())
  const opened = await openStore({ table: 'fresh-table', region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs: 2000, embedded: false, dataDir, inLambda: false })
  t.teardown(() => opened.close())
  await t.resolves(opened.store.ping())
  // Opening again finds the table in place.
  const again = await openStore({ table: 'fresh-table', region: 'us-east-1', endpoint: emulator.endpoint, timeoutMs: 2000, embedded: false, dataDir, inLambda: false })
  t.teardown(() => again.close())
  await t.resolves(again.store.ping())
})

t.test('the embedded store is refused in Lambda (its disk is ephemeral and per instance)', async t => {
  const dataDir = await tempDir(t)
  await t.rejects(startEmbeddedStore({ dataDir, inLambda: true }), EmbeddedStoreRefusedError)
  await t.rejects(openStore({ table: 'gatehouse', region: 'us-east-1', endpoint: undefined, timeoutMs: 2000, embedded: true, dataDir, inLambda: true }), EmbeddedStoreRefusedError)
})

t.test('openStore fails fast with StoreUnavailableError when a configured endpoint is unreachable', async t => {
  const dataDir = await tempDir(t)
  await t.rejects(openStore({ table: 'gatehouse', region: 'us-east-1', endpoint: 'http://127.0.0.1:1', timeoutMs: 500, embedded: false, dataDir, inLambda: false }), StoreUnavailableError)
})

t.test('ping reports a missing table as StoreUnavailableError', async t => {
  const { store, endpoint } = await startTestStore(t)
  await t.resolves(store.ping())
  const client = createDynamoClient({ region: 'us-east-1', endpoint })
  t.teardown(() => client.destroy())
  const missing = new DynamoStore({ client, table: 'no-such-table', clock: createFakeClock(), timeoutMs: 2000 })
  await t.rejects(missing.ping(), StoreUnavailableError)
})

t.test('a data dir in use is refused with a clear error instead of crashing the process', async t => {
  const dataDir = await tempDir(t)
  const first = await startEmbeddedStore({ dataDir, inLambda: false })
  await t.rejects(startEmbeddedStore({ dataDir, inLambda: false }), EmbeddedStoreBusyError, 'same process')
  await first.close()
  const again = await startEmbeddedStore({ dataDir, inLambda: false })
  await again.close()
  t.pass('usable again once closed')
})

t.test('a data dir held by another live process is refused; one left by a dead process is taken over', async t => {
  const dataDir = await tempDir(t)
  await startEmbeddedStore({ dataDir, inLambda: false }).then(s => s.close()) // creates the directory
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
  t.teardown(() => { if (holder.exitCode === null) holder.kill() })
  await writeFile(join(dataDir, 'dynamodb.pid'), String(holder.pid))
  await t.rejects(startEmbeddedStore({ dataDir, inLambda: false }), EmbeddedStoreBusyError)
  holder.kill()
  await once(holder, 'exit')
  const store = await startEmbeddedStore({ dataDir, inLambda: false })
  await store.close()
  t.pass('stale pid file taken over')
})
