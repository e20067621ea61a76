// Seeded fuzzing of every endpoint on the running server (the default `npm test` share: a fixed seed, a
// few hundred requests). The full run is endpoints.full.test.ts (`npm run test:fuzz`). Replay a failure
// with FUZZ_SEED=<seed> FUZZ_PATH=<path> npx tap test/fuzz/endpoints.test.ts.
import t from 'tap'
import { runEndpointFuzz } from './endpoint-fuzz.ts'

const seed = process.env.FUZZ_SEED === undefined ? 20250601 : Number(process.env.FUZZ_SEED)
const numRuns = process.env.FUZZ_RUNS === undefined ? 800 : Number(process.env.FUZZ_RUNS)

t.test(`every endpoint, ${numRuns} adversarial requests (seed ${seed}): never 5xx, never a hang, standard error format, no stray records`, async t => {
  await runEndpointFuzz(t, { numRuns, seed, path: process.env.FUZZ_PATH })
})

// Found by this fuzzing: a request whose params the SDK's schema refuses was dropped by the SDK without an
// answer, and the HTTP request waited forever. src/mcp/http.ts now refuses those shapes up front.
t.test('/mcp answers a request whose params are not an object (JSON-RPC error, no hang)', async t => {
  const { buildTestApp } = await import('../support/app.ts')
  const { mintGrant, registerTestClient } = await import('../security/mint.ts')
  const { app } = await buildTestApp(t)
  const client = await registerTestClient(app)
  const { accessToken } = await mintGrant(app, client.clientId)
  for (const body of [{ jsonrpc: '2.0', id: 1, method: 'initialize', params: [] }, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: 5 } }, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { progressToken: { x: 1 } } } }, { jsonrpc: '2.0', id: 4, method: 'tools/list', params: 'x' }]) {
    const answer = await Promise.race([
      app.inject({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, payload: body }),
      new Promise<undefined>(resolve => setTimeout(() => resolve(undefined), 2000).unref())
    ])
    t.ok(answer !== undefined && answer.statusCode === 400, `${JSON.stringify(body)} is answered 400 within 2 s`)
  }
})
