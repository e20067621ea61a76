// `node scripts/seed-data.ts`: loads the sample enterprise dataset (query_data, add_record) into the store
// the environment configures — the embedded one under GATEHOUSE_DATA_DIR locally, DynamoDB on AWS.
// Idempotent: rows that exist are left as they are (conditional puts), so it is safe to run any time,
// also while the app runs against a real DynamoDB table (the embedded store allows one process at a time).
import { loadConfig, ConfigError } from '../src/config.ts'
import { openStore } from '../src/store/index.ts'
import { seedDataset, SAMPLE_ROWS } from '../src/mcp/dataset.ts'
import { SYSTEM_CLOCK } from '../src/ports/clock.ts'

try {
  const config = loadConfig()
  const opened = await openStore({ ...config.store, dataDir: config.dataDir, inLambda: config.inLambda, clock: SYSTEM_CLOCK })
  try {
    const written = await seedDataset(opened.store, SYSTEM_CLOCK)
    console.log(`sample dataset: ${written} row(s) written, ${SAMPLE_ROWS.length - written} already present (table ${config.store.table})`)
  } finally {
    await opened.close()
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exitCode = 1
}
