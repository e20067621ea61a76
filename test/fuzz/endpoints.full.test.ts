// The full fuzz run (`npm run test:fuzz`): at least 10 000 generated requests against every endpoint, with a
// fresh random seed each time (printed, and printed again with the replay command on failure).
// Replay: FUZZ_SEED=<seed> FUZZ_PATH=<path> npx tap test/fuzz/endpoints.full.test.ts
import t from 'tap'
import { runEndpointFuzz } from './endpoint-fuzz.ts'

const seed = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED)
const numRuns = process.env.FUZZ_RUNS === undefined ? 12_000 : Number(process.env.FUZZ_RUNS)
console.error(`[fuzz] full run: ${numRuns} requests, seed ${seed}`)

t.test(`every endpoint, ${numRuns} adversarial requests (seed ${seed}): never 5xx, never a hang, standard error format, no stray records`, { timeout: 900_000 }, async t => {
  t.comment(`seed ${seed}`)
  await runEndpointFuzz(t, { numRuns, seed, path: process.env.FUZZ_PATH })
})
