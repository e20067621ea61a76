// A store that is down or slow must turn into StoreUnavailableError (503 temporarily_unavailable)
// within about the configured timeout, never a raw SDK error and never a hung request.
import t from 'tap'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { StoreUnavailableError } from '../../src/ports/store.ts'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { toStoreError } from '../../src/store/errors.ts'
import { T0, code, fullClient, grant, redemption, rotation } from './fixtures.ts'
import { createFakeClock, storeClient } from '../support/store.ts'

const TIMEOUT_MS = 300
const clock = createFakeClock(T0)

function storeAt (endpoint: string, timeoutMs = TIMEOUT_MS): DynamoStore {
  const { client, destroy } = storeClient(endpoint, timeoutMs)
  t.teardown(destroy)
  return new DynamoStore({ client, table: 'gatehouse-test', clock, timeoutMs })
}

async function listen (server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A port nothing listens on: bind one, then close it. */
async function closedPort (): Promise<number> {
  const server = createServer()
  const port = await listen(server)
  await new Promise(resolve => server.close(resolve))
  return port
}

async function timed (fn: () => Promise<unknown>): Promise<{ error: unknown, ms: number }> {
  const start = performance.now()
  try {
    await fn()
    return { error: undefined, ms: performance.now() - start }
  } catch (error) {
    return { error, ms: performance.now() - start }
  }
}

const operations = (store: DynamoStore): Array<[string, () => Promise<unknown>]> => [
  ['findGrant', () => store.findGrant('g')],
  ['saveClient', () => store.saveClient(fullClient())],
  ['consumeCode', () => store.consumeCode('h', redemption(code()), T0)],
  ['saveCode', () => store.saveCode(code())],
  ['revokeGrant', () => store.revokeGrant('g', T0)],
  ['rotateRefreshToken', () => store.rotateRefreshToken(grant().grantId, 'h', rotation(undefined), T0)],
  ['listDatasetRecords', () => store.listDatasetRecords()],
  ['ping', () => store.ping()]
]

t.test('an unreachable endpoint (connection refused) gives StoreUnavailableError for every kind of call, within the timeout', async t => {
  const store = storeAt(`http://127.0.0.1:${await closedPort()}`)
  for (const [name, run] of operations(store)) {
    const { error, ms } = await timed(run)
    t.type(error, StoreUnavailableError, `${name}: StoreUnavailableError`)
    t.ok(ms < 3 * TIMEOUT_MS, `${name}: failed in ${Math.round(ms)} ms (< 3 × ${TIMEOUT_MS})`)
    t.ok((error as Error).cause, `${name}: keeps the cause`)
  }
})

t.test('a slow endpoint (accepts TCP, never answers) gives StoreUnavailableError within about the timeout', async t => {
  const sockets = new Set<Socket>()
  const server = createServer(socket => { sockets.add(socket); socket.on('error', () => {}) })
  const port = await listen(server)
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  const store = storeAt(`http://127.0.0.1:${port}`)
  const results = await Promise.all(operations(store).map(async ([name, run]) => ({ name, ...(await timed(run)) })))
  for (const { name, error, ms } of results) {
    t.type(error, StoreUnavailableError, `${name}: StoreUnavailableError`)
    t.match((error as Error).message, /timed out after 300 ms/, `${name}: says it timed out`)
    t.ok(ms >= TIMEOUT_MS * 0.9 && ms < 3 * TIMEOUT_MS, `${name}: failed in ${Math.round(ms)} ms (about ${TIMEOUT_MS})`)
  }
})

t.test('a throttling or 5xx answer gives StoreUnavailableError after the small retry budget', async t => {
  let requests = 0
  const server = createHttpServer((req, res) => {
    requests++
    req.resume()
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'boom' }))
    })
  })
  const port = await listen(server)
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const store = storeAt(`http://127.0.0.1:${port}`, 2000)
  const { error, ms } = await timed(() => store.findGrant('g'))
  t.type(error, StoreUnavailableError)
  t.match((error as Error).message, /InternalServerError/)
  t.equal(requests, 2, 'maxAttempts 2: one retry, no more')
  t.ok(ms < 2000)
})

t.test('a condition failure is never reported as unavailability, and validation errors (our bugs) stay visible', async t => {
  const conditional = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' })
  const validation = Object.assign(new Error('bad expression'), { name: 'ValidationException', $fault: 'client' })
  const throttled = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } })
  t.notOk(toStoreError(validation, 'GetItem', 100, false) instanceof StoreUnavailableError)
  t.equal(toStoreError(validation, 'GetItem', 100, false), validation)
  t.type(toStoreError(throttled, 'GetItem', 100, false), StoreUnavailableError)
  t.type(toStoreError(conditional, 'GetItem', 100, true), StoreUnavailableError, 'a deadline wins over whatever came back late')
  t.type(toStoreError('not an error', 'GetItem', 100, false), StoreUnavailableError)
})
