// The events of resumable /mcp streams (src/store/models/stream-events.ts): one partition per stream, read back
// in order a bounded page at a time from a given seq, expiring a few minutes after they were written (the TTL
// attribute set, expired ones read as absent) unless a live one's expiry is moved on.
import t from 'tap'
import { QueryCommand } from '@aws-sdk/client-dynamodb'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { TTL_ATTRIBUTE } from '../../src/store/table.ts'
import { StoreConflictError } from '../../src/ports/store.ts'
import type { StreamEventRecord } from '../../src/ports/stream-events.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0 } from './fixtures.ts'

const clock = createFakeClock(T0)
const { store, endpoint, table } = await startTestStore(t, { clock })
t.beforeEach(() => clock.set(T0))

const event = (streamId: string, seq: number, overrides: Partial<StreamEventRecord> = {}): StreamEventRecord =>
  ({ streamId, seq, owner: 'owner-hash', message: seq === 0 ? '' : JSON.stringify({ jsonrpc: '2.0', method: 'n', params: { seq } }), final: false, expiresAt: T0 + 300, ...overrides })

t.test('a stream\'s events come back in seq order, under STREAM#<id> / EVENT#<seq>, each with the TTL attribute', async t => {
  const id = '0b5e4c3a-1d2e-4f60-8a9b-0c1d2e3f4a5b'
  // Written out of order, and past 9, so that only the zero-padded sort key can order them.
  for (const seq of [0, 2, 10, 1]) await store.saveStreamEvent(event(id, seq, { final: seq === 10 }))
  await store.saveStreamEvent(event('another-stream', 0))
  const events = await store.listStreamEvents(id, 0, 100)
  t.same(events.map(e => e.seq), [0, 1, 2, 10])
  t.strictSame(events[3], event(id, 10, { final: true }), 'the record round-trips')
  const raw = createDynamoClient({ region: 'us-east-1', endpoint, timeoutMs: 2000 })
  t.teardown(() => raw.destroy())
  const out = await raw.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `STREAM#${id}` } } }))
  t.same(out.Items?.map(item => item.sk?.S), ['EVENT#000000', 'EVENT#000001', 'EVENT#000002', 'EVENT#000010'])
  t.equal(TTL_ATTRIBUTE, 'expiresAt')
  t.ok(out.Items?.every(item => item.expiresAt?.N === String(T0 + 300) && item.kind?.S === 'stream_event'), 'every item carries expiresAt (N), DynamoDB\'s TTL attribute, and its kind')
})

t.test('expired events read as absent (DynamoDB\'s TTL deletes lazily); an unknown stream is empty', async t => {
  const id = 'c7f1a2b3-4d5e-4f60-9a8b-7c6d5e4f3a2b'
  await store.saveStreamEvent(event(id, 0, { expiresAt: T0 + 10 }))
  await store.saveStreamEvent(event(id, 1, { expiresAt: T0 + 20 }))
  clock.set(T0 + 10)
  t.same((await store.listStreamEvents(id, 0, 100)).map(e => e.seq), [1])
  clock.set(T0 + 20)
  t.same(await store.listStreamEvents(id, 0, 100), [])
  t.same(await store.listStreamEvents('f0000000-0000-4000-8000-000000000000', 0, 100), [])
})

t.test('an event is written once: the same stream and seq again is a conflict, never an overwrite', async t => {
  const id = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'
  await store.saveStreamEvent(event(id, 0))
  await t.rejects(store.saveStreamEvent(event(id, 0, { owner: 'someone-else' })), StoreConflictError)
  t.equal((await store.listStreamEvents(id, 0, 1))[0]?.owner, 'owner-hash')
})

t.test('a read starts at the seq asked for and returns at most `limit` events: a resume never re-reads the stream from 0', async t => {
  const id = 'd4c3b2a1-0f9e-4d8c-9b7a-6f5e4d3c2b1a'
  for (let seq = 0; seq <= 12; seq++) await store.saveStreamEvent(event(id, seq))
  await store.saveStreamEvent(event('e5d4c3b2-a1f0-4e9d-8c7b-6a5f4e3d2c1b', 13))
  t.same((await store.listStreamEvents(id, 5, 3)).map(e => e.seq), [5, 6, 7])
  t.same((await store.listStreamEvents(id, 11, 100)).map(e => e.seq), [11, 12], 'to the stream\'s end, no other stream\'s events')
  t.same(await store.listStreamEvents(id, 13, 100), [], 'after the last event: nothing yet')
})

t.test('a live event\'s expiry can be moved on; an expired or unknown one cannot be revived', async t => {
  const id = 'b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e'
  await store.saveStreamEvent(event(id, 0, { expiresAt: T0 + 10 }))
  await store.saveStreamEvent(event(id, 1, { expiresAt: T0 + 10 }))
  t.equal(await store.extendStreamEvent(id, 1, T0 + 500), true)
  clock.set(T0 + 10)
  t.same((await store.listStreamEvents(id, 0, 10)).map(e => [e.seq, e.expiresAt]), [[1, T0 + 500]], 'the extended one lives on')
  t.equal(await store.extendStreamEvent(id, 0, T0 + 500), false, 'expired: stays expired')
  t.equal(await store.extendStreamEvent(id, 7, T0 + 500), false, 'never stored: nothing created')
  t.same((await store.listStreamEvents(id, 0, 10)).map(e => e.seq), [1])
})
