// Resumable response streams (src/mcp/resumable.ts, Streamable HTTP "Resumability and Redelivery") against the
// real store on the embedded emulator, with a clock the test moves: resumption of streams older than the
// event TTL, a silent handler's stream kept resumable, holes refused, one resume per stream and a bounded
// number per caller, a client going away ending the resume at once, and a stream that outgrows the key schema
// ending with an error. The routes' side is in test/routes/mcp-sessions.test.ts.
import t from 'tap'
import { PassThrough, type Readable } from 'node:stream'
import { MAX_RESUMES_PER_CALLER, ResumableStreams, STREAM_EVENT_TTL_SECONDS, type ResumeOutcome } from '../../src/mcp/resumable.ts'
import type { Caller } from '../../src/mcp/caller.ts'
import type { McpSession } from '../../src/mcp/session.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'

const T0 = 1_800_000_000
const clock = createFakeClock(T0)
const { store } = await startTestStore(t, { clock })
const warnings: string[] = []
const streams = new ResumableStreams({ store, clock, log: { warn: (_fields, message) => { warnings.push(message) } } })
t.beforeEach(() => { clock.set(T0) })

const alice: Caller = { sub: 'alice', groups: [], scopes: ['mcp:write'], clientId: 'client-a', issuer: 'https://gatehouse.example', expiresAt: T0 + 3600 }
const session: McpSession = { version: '2025-11-25', expiresAt: T0 + 86_400, nonce: 'nonce-1' }
const NEVER = new AbortController().signal

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Resolves once the stream's event `seq` is in the store (events are stored before they are written). */
async function stored (streamId: string, seq: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await store.listStreamEvents(streamId, seq, 1))[0]?.seq === seq) return
    await sleep(10)
  }
  throw new Error(`event ${seq} of ${streamId} never stored`)
}

async function text (body: Readable): Promise<string> {
  let all = ''
  for await (const chunk of body) all += String(chunk)
  return all
}

const ids = (sse: string): string[] => [...sse.matchAll(/^id: (.+)$/gm)].map(m => m[1] as string)
const stream = (outcome: ResumeOutcome): Readable => {
  if (outcome.kind !== 'stream') throw new Error(`expected a stream, got ${outcome.kind}`)
  return outcome.body
}
const open = (caller: Caller = alice) => streams.open(new PassThrough(), { caller, session, requestId: 'r1', onOverflow: () => {} })

t.test('a stream older than the event TTL resumes: ownership is checked on the client\'s own last event, not the long-expired priming event', async t => {
  const s = open()
  s.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })
  await stored(s.id, 1)
  clock.set(T0 + 200)
  s.send({ jsonrpc: '2.0', id: 'r1', result: { done: true } }, true)
  await stored(s.id, 2)
  clock.set(T0 + STREAM_EVENT_TTL_SECONDS + 100) // the priming event and event 1 have expired; event 2 lives
  t.same((await store.listStreamEvents(s.id, 0, 10)).map(e => e.seq), [2])
  const replay = await text(stream(await streams.resume({ caller: alice, session, lastEventId: `${s.id}_1`, signal: NEVER })))
  t.same(ids(replay), [`${s.id}_2`], 'the answer, under its id')
  t.match(replay, /"done":true/)
})

t.test('a silent handler keeps its newest event alive, so its client can resume after more than the TTL', async t => {
  const s = open()
  s.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })
  await stored(s.id, 1)
  clock.set(T0 + STREAM_EVENT_TTL_SECONDS / 2 + 10) // less than half the TTL left: the next check extends it
  let expiresAt = 0
  for (let i = 0; i < 40 && expiresAt <= T0 + STREAM_EVENT_TTL_SECONDS; i++) {
    await sleep(100)
    expiresAt = (await store.listStreamEvents(s.id, 1, 1))[0]?.expiresAt ?? 0
  }
  t.equal(expiresAt, T0 + STREAM_EVENT_TTL_SECONDS / 2 + 10 + STREAM_EVENT_TTL_SECONDS, 'moved on by a full TTL from now')
  clock.set(T0 + STREAM_EVENT_TTL_SECONDS + 60)
  const resumed = await streams.resume({ caller: alice, session, lastEventId: `${s.id}_1`, signal: NEVER })
  s.send({ jsonrpc: '2.0', id: 'r1', result: { late: true } }, true)
  const replay = await text(stream(resumed))
  t.same(ids(replay), [`${s.id}_2`])
  t.match(replay, /"late":true/)
})

t.test('a resume that would skip an expired event is refused like an unknown stream, never replayed with a hole', async t => {
  const s = open()
  s.send({ jsonrpc: '2.0', method: 'n', params: { step: 1 } })
  await stored(s.id, 1)
  clock.set(T0 + 200)
  s.send({ jsonrpc: '2.0', method: 'n', params: { step: 2 } })
  await stored(s.id, 2)
  clock.set(T0 + STREAM_EVENT_TTL_SECONDS + 1) // events 0 and 1 expired
  t.same(await streams.resume({ caller: alice, session, lastEventId: `${s.id}_0`, signal: NEVER }), { kind: 'unknown' }, 'event 1 is missing after event 0')
  const ok = stream(await streams.resume({ caller: alice, session, lastEventId: `${s.id}_1`, signal: AbortSignal.timeout(300) }))
  t.same(ids(await text(ok)), [`${s.id}_2`], 'from event 1 nothing is missing')
  s.send({}, true)
})

t.test('someone else\'s stream, another session\'s or a malformed id: one answer, as for an unknown stream', async t => {
  const s = open()
  s.send({ jsonrpc: '2.0', id: 'r1', result: {} }, true)
  await stored(s.id, 1)
  for (const [what, caller, inSession, id] of [
    ['another user', { ...alice, sub: 'bob' }, session, `${s.id}_0`],
    ['another client', { ...alice, clientId: 'client-b' }, session, `${s.id}_0`],
    ['another session', alice, { ...session, nonce: 'nonce-2' }, `${s.id}_0`],
    ['no session', alice, undefined, `${s.id}_0`],
    ['an unknown stream', alice, session, '00000000-0000-4000-8000-000000000000_0'],
    ['a malformed id', alice, session, 'garbage']
  ] as const) t.same(await streams.resume({ caller, session: inSession, lastEventId: id, signal: NEVER }), { kind: 'unknown' }, what)
})

t.test('one resume per stream at a time (409 as the SDK) and at most MAX_RESUMES_PER_CALLER per caller', async t => {
  const opened = Array.from({ length: MAX_RESUMES_PER_CALLER + 1 }, () => open())
  for (const s of opened) await stored(s.id, 0)
  const controller = new AbortController()
  const resume = async (id: string, caller = alice) => await streams.resume({ caller, session, lastEventId: `${id}_0`, signal: controller.signal })
  const first = stream(await resume(opened[0]!.id))
  t.same(await resume(opened[0]!.id), { kind: 'busy' }, 'the same stream again while the first resume runs')
  const more = await Promise.all(opened.slice(1, MAX_RESUMES_PER_CALLER).map(async s => stream(await resume(s.id))))
  t.same(await resume(opened[MAX_RESUMES_PER_CALLER]!.id), { kind: 'too_many' }, `a ${MAX_RESUMES_PER_CALLER + 1}th at once`)
  const bob = { ...alice, sub: 'bob' }
  const bobs = open(bob)
  await stored(bobs.id, 0)
  const bobResume = stream(await resume(bobs.id, bob))
  t.pass('another caller is not held up')
  first.destroy()
  await new Promise(resolve => first.once('close', resolve))
  t.equal((await resume(opened[0]!.id)).kind, 'stream', 'a slot is free again once a resume ends')
  controller.abort()
  for (const body of [...more, bobResume]) body.destroy()
  for (const s of [...opened, bobs]) s.send({}, true)
})

t.test('a client that goes away ends the resume at once, not after the wait bound', async t => {
  const s = open()
  await stored(s.id, 0)
  const controller = new AbortController()
  const body = stream(await streams.resume({ caller: alice, session, lastEventId: `${s.id}_0`, signal: controller.signal }))
  const started = Date.now()
  const done = text(body)
  await sleep(100)
  controller.abort()
  await done
  t.ok(Date.now() - started < 1500, `ended ${Date.now() - started} ms after it started (the wait bound is 10 s)`)
  t.equal((await streams.resume({ caller: alice, session, lastEventId: `${s.id}_0`, signal: AbortSignal.timeout(50) })).kind, 'stream', 'and its slot is free')
  s.send({}, true)
})

t.test('a stream that outgrows the key schema ends with an error response, stored and written, and stops its handler', async t => {
  const small = new ResumableStreams({ store, clock, log: { warn: () => {} }, maxSeq: 3 })
  let stopped = false
  const out = new PassThrough()
  const s = small.open(out, { caller: alice, session, requestId: 'r1', onOverflow: () => { stopped = true } })
  for (let i = 1; i <= 5; i++) s.send({ jsonrpc: '2.0', method: 'n', params: { i } })
  s.send({ jsonrpc: '2.0', id: 'r1', result: {} }, true)
  const written = await text(out)
  t.ok(stopped, 'the handler is told to stop')
  t.same(ids(written), [0, 1, 2, 3].map(seq => `${s.id}_${seq}`), 'events up to the bound, the last one the error')
  const events = await store.listStreamEvents(s.id, 0, 10)
  t.same(events.map(e => [e.seq, e.final]), [[0, false], [1, false], [2, false], [3, true]])
  t.same(JSON.parse(events[3]?.message ?? '{}'), { jsonrpc: '2.0', id: 'r1', error: { code: -32603, message: 'Internal error: the response stream exceeded 3 events' } })
  t.notMatch(written, /"result"/, 'the handler\'s late answer is not sent after the error')
})

t.test('no warnings were logged by the streams above', async t => {
  t.same(warnings, [])
})
