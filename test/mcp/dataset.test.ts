// The sample dataset: seeding is idempotent (conditional puts), app start seeds only an empty dataset,
// and scripts/seed-data.ts loads it into the configured store.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startTestStore, createFakeClock } from '../support/store.ts'
import { SAMPLE_ROWS, seedDataset, seedDatasetIfEmpty } from '../../src/mcp/dataset.ts'
import { buildMcpApp } from './helpers.ts'

t.test('seeding twice (or concurrently) writes each row once and never overwrites', async t => {
  const clock = createFakeClock()
  const { store } = await startTestStore(t, { clock })
  const [a, b] = await Promise.all([seedDataset(store, clock), seedDataset(store, clock)])
  t.equal(a + b, SAMPLE_ROWS.length, 'racing seeders split the rows between them')
  await store.putDatasetRecord({ id: 'own-1', title: 'mine', category: 'x', value: 1, visibleTo: [], createdBy: 'u', createdAt: clock.now() })
  t.equal(await seedDataset(store, clock), 0)
  t.equal((await store.listDatasetRecords()).length, SAMPLE_ROWS.length + 1)
})

t.test('app start seeds an empty dataset, and leaves a non-empty one alone', async t => {
  const built = await buildMcpApp(t)
  t.equal((await built.store.store.listDatasetRecords()).length, SAMPLE_ROWS.length, 'seeded by the app')
  const clock = createFakeClock()
  const { store } = await startTestStore(t, { clock })
  await store.putDatasetRecord({ id: 'only', title: 'x', category: 'x', value: 1, visibleTo: [], createdBy: 'u', createdAt: 0 })
  t.equal(await seedDatasetIfEmpty(store, clock), 0, 'an operator\'s dataset is not topped up')
})

t.test('scripts/seed-data.ts loads the dataset into the embedded store of GATEHOUSE_DATA_DIR, idempotently', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-seed-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const script = new URL('../../scripts/seed-data.ts', import.meta.url).pathname
  const env = { PATH: process.env.PATH, GATEHOUSE_DATA_DIR: dataDir, UPSTREAM_ISSUER: 'http://127.0.0.1:9' }
  const first = await promisify(execFile)(process.execPath, [script], { env })
  t.match(first.stdout, new RegExp(`${SAMPLE_ROWS.length} row\\(s\\) written, 0 already present`))
  const second = await promisify(execFile)(process.execPath, [script], { env })
  t.match(second.stdout, new RegExp(`0 row\\(s\\) written, ${SAMPLE_ROWS.length} already present`))
})
