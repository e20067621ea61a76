// Resumable response streams (Streamable HTTP 2025-11-25, "Resumability and Redelivery", SEP-1699): a legacy-era
// POST answered with text/event-stream starts with a priming event (an id, a `retry:` field, empty data), and
// every event after it has an id `<stream>_<seq>` and is stored (StreamEventStore: DynamoDB, short TTL) before
// it is written. When the stream breaks off — the client's network, or the handler closing it on purpose
// (closeSSEStream: polling) — the client sends GET with Last-Event-ID, which may reach any instance: that one
// replays the stored events after the id and waits, bounded, for the rest (notified at once when the handler
// runs in the same process, by polling the store otherwise), then ends the stream.
// A stream belongs to the caller and session that opened it (`streamOwner`, stored with every event). Each
// event expires STREAM_EVENT_TTL_SECONDS after it was stored, and while the handler runs its newest stored
// event is kept alive, so a silent handler's stream stays resumable. A resume is checked on the first live
// event from the client's last one on (that event, or the one right after it): a stream of any age resumes as
// long as nothing after the client's last event is missing. A Last-Event-ID of anyone else's stream, or one
// after which an event expired or was never stored, reads as an unknown stream: no replay with a hole in it.
import { createHash, randomUUID } from 'node:crypto'
import { Readable, type Writable } from 'node:stream'
import type { RequestId } from '@modelcontextprotocol/sdk/types.js'
import { safeEqual } from '../oauth/secrets.ts'
import type { Clock } from '../ports/clock.ts'
import { MAX_STREAM_EVENT_SEQ, type StreamEventRecord, type StreamEventStore } from '../ports/stream-events.ts'
import { principalKey, type Caller } from './caller.ts'
import { INTERNAL_ERROR } from './errors.ts'
import { sseEvent } from './http.ts'
import type { McpSession } from './session.ts'

/** The `retry:` a client waits before it reconnects (milliseconds). */
export const STREAM_RETRY_MS = 1000
/** How long a stored event lives: after it was stored or, for the newest one while the handler runs, after its last extension. */
export const STREAM_EVENT_TTL_SECONDS = 300
/** How often a running stream looks whether its newest event needs its expiry moved on (every half TTL). */
const KEEP_ALIVE_CHECK_MS = 1000
/** How long a resuming GET runs at most (replaying, then waiting for events still to come); the client then resumes again. */
export const RESUME_WAIT_MS = 10_000
/** How often a resuming GET looks at the store when the handler runs in another process. */
const RESUME_POLL_MS = 500
/** Events read from the store at a time. */
const RESUME_PAGE = 100
/** Resuming GETs one caller (user and client) may have running at once in one process. */
export const MAX_RESUMES_PER_CALLER = 4

const EVENT_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_(\d{1,6})$/

interface Logger {
  warn: (fields: Record<string, unknown>, message: string) => void
}

export interface ResumableStreamsOptions {
  store: StreamEventStore
  clock: Clock
  log: Logger
  /** The largest seq a stream may reach: the key schema's bound (tests lower it). */
  maxSeq?: number
}

export interface OpenStreamOptions {
  caller: Caller
  session: McpSession | undefined
  /** The request the stream answers: a stream that outgrows `maxSeq` ends with an error response to it. */
  requestId: RequestId
  /** Called when the stream ends before its handler answered (it outgrew `maxSeq`): the handler should stop. */
  onOverflow: () => void
}

export interface ResumeRequest {
  caller: Caller
  session: McpSession | undefined
  lastEventId: string
  /** Aborted when the client goes away: the resume stops waiting at once. */
  signal: AbortSignal
}

export type ResumeOutcome =
  | { kind: 'stream', body: Readable }
  /** Malformed, unknown, expired, with a hole after the id, or someone else's: one answer for all. */
  | { kind: 'unknown' }
  /** The stream is being resumed already (in this process). */
  | { kind: 'busy' }
  /** The caller has MAX_RESUMES_PER_CALLER resumes running here. */
  | { kind: 'too_many' }

/**
 * Who may resume a stream: the same principal (src/mcp/caller.ts: a step-up's new grant resumes too) and, if it
 * had one, the same session. Like the session id, this binds, it does not hide: the caller knows every input.
 */
function streamOwner (caller: Caller, session: McpSession | undefined): string {
  return createHash('sha256').update(JSON.stringify(['gatehouse mcp stream', principalKey(caller), session?.nonce ?? null])).digest('base64url')
}

type StreamEvent = Omit<StreamEventRecord, 'expiresAt'>

/** What a stream being written needs of the store; each call logs its own failure and answers undefined. */
interface StreamJournal {
  /** Stores an event; its expiry, or undefined when it was not stored. */
  save (event: StreamEvent): Promise<number | undefined>
  /** Moves a stored event's expiry on; the new expiry, or undefined. */
  extend (streamId: string, seq: number): Promise<number | undefined>
  now (): number
}

/** One response stream being written: events are stored, then written, strictly in order. */
export class ResumableStream {
  readonly id = randomUUID()
  readonly #out: Writable
  readonly #journal: StreamJournal
  readonly #owner: string
  readonly #requestId: RequestId
  readonly #maxSeq: number
  readonly #onOverflow: () => void
  #seq = 0
  #tail: Promise<void> = Promise.resolve()
  /** The final event is queued: nothing may follow it. */
  #answered = false
  /** The newest event stored, which a resume may need while the handler is silent. */
  #newest: { seq: number, expiresAt: number } | undefined
  readonly #keepAlive: NodeJS.Timeout

  constructor (out: Writable, journal: StreamJournal, owner: string, maxSeq: number, options: Pick<OpenStreamOptions, 'requestId' | 'onOverflow'>) {
    this.#out = out
    this.#journal = journal
    this.#owner = owner
    this.#maxSeq = maxSeq
    this.#requestId = options.requestId
    this.#onOverflow = options.onOverflow
    this.#keepAlive = setInterval(() => { this.#extendNewest() }, KEEP_ALIVE_CHECK_MS).unref()
    this.#append('', false)
  }

  /** Stores a message and writes it, unless the stream was closed meanwhile (it stays stored for a resume). */
  send (message: unknown, final = false): void {
    if (this.#answered) return
    if (this.#seq === this.#maxSeq && !final) {
      // The last seq the store can keep: the stream ends here, with an error the client can see, live or resumed.
      this.#append(JSON.stringify({ jsonrpc: '2.0', id: this.#requestId, error: { code: INTERNAL_ERROR, message: `Internal error: the response stream exceeded ${this.#maxSeq} events` } }), true)
      this.close()
      this.#onOverflow()
      return
    }
    this.#append(JSON.stringify(message), final)
  }

  /** Ends the HTTP response now; what follows is stored only, for the client's GET (SDK v1: closeSSEStream). */
  close (): void {
    this.#tail = this.#tail.then(() => { if (!this.#out.writableEnded) this.#out.end() })
  }

  #append (message: string, final: boolean): void {
    if (final) {
      this.#answered = true
      clearInterval(this.#keepAlive)
    }
    const event: StreamEvent = { streamId: this.id, seq: this.#seq++, owner: this.#owner, message, final }
    this.#tail = this.#tail.then(async () => {
      const expiresAt = await this.#journal.save(event)
      if (expiresAt !== undefined) this.#newest = { seq: event.seq, expiresAt }
      if (this.#out.writableEnded || this.#out.destroyed) return
      this.#out.write(event.seq === 0
        ? sseEvent({ id: `${this.id}_0`, retry: STREAM_RETRY_MS, data: '' })
        : sseEvent({ id: `${this.id}_${event.seq}`, event: 'message', data: message }))
    })
  }

  /** While the handler runs, its newest stored event outlives a silence: the client may resume from it any time. */
  #extendNewest (): void {
    const newest = this.#newest
    if (this.#answered || newest === undefined || newest.expiresAt - this.#journal.now() > STREAM_EVENT_TTL_SECONDS / 2) return
    // In the queue, after any store in flight; at most one at a time (the next check sees the new expiry).
    this.#newest = undefined
    this.#tail = this.#tail.then(async () => {
      // Not extended (logged; or already expired): no further tries until the next event is stored.
      const expiresAt = await this.#journal.extend(this.id, newest.seq)
      if (expiresAt !== undefined && this.#newest === undefined) this.#newest = { seq: newest.seq, expiresAt }
    })
  }
}

export class ResumableStreams {
  readonly #store: StreamEventStore
  readonly #clock: Clock
  readonly #log: Logger
  readonly #maxSeq: number
  /** GETs of this process waiting for a stream's next event, by stream id. */
  readonly #waiting = new Map<string, Set<() => void>>()
  /** Streams being resumed in this process. */
  readonly #resuming = new Set<string>()
  /** Resumes running in this process, by principal. */
  readonly #resumesBy = new Map<string, number>()

  constructor (options: ResumableStreamsOptions) {
    this.#store = options.store
    this.#clock = options.clock
    this.#log = options.log
    this.#maxSeq = Math.min(options.maxSeq ?? MAX_STREAM_EVENT_SEQ, MAX_STREAM_EVENT_SEQ)
  }

  /** Starts a resumable stream on `out`: the priming event is its first event. */
  open (out: Writable, options: OpenStreamOptions): ResumableStream {
    let failed = false
    const journal: StreamJournal = {
      save: async event => {
        try {
          return await this.#save(event)
        } catch (error) {
          // The live stream goes on. Later events are still tried: the hole this one leaves makes a resume past
          // it refused (the client stops), where a stream that silently stopped being stored would keep it polling.
          if (!failed) this.#log.warn({ err: error, stream: event.streamId }, 'stream event not stored; this stream cannot be resumed past it')
          failed = true
          return undefined
        }
      },
      extend: async (streamId, seq) => {
        const expiresAt = this.#clock.now() + STREAM_EVENT_TTL_SECONDS
        try {
          return await this.#store.extendStreamEvent(streamId, seq, expiresAt) ? expiresAt : undefined
        } catch (error) {
          this.#log.warn({ err: error, stream: streamId }, 'stream event expiry not extended; a resume may find the stream expired')
          return undefined
        }
      },
      now: () => this.#clock.now()
    }
    return new ResumableStream(out, journal, streamOwner(options.caller, options.session), this.#maxSeq, options)
  }

  /** Stores one event and wakes this process's GETs waiting for it; the event's expiry. */
  async #save (event: StreamEvent): Promise<number> {
    const expiresAt = this.#clock.now() + STREAM_EVENT_TTL_SECONDS
    await this.#store.saveStreamEvent({ ...event, expiresAt })
    for (const wake of this.#waiting.get(event.streamId) ?? []) wake()
    return expiresAt
  }

  /**
   * The rest of the stream `lastEventId` belongs to, as event-stream text, if this caller in this session opened
   * it and nothing after the event named is missing.
   */
  async resume (request: ResumeRequest): Promise<ResumeOutcome> {
    const match = EVENT_ID.exec(request.lastEventId)
    if (match === null) return { kind: 'unknown' }
    const streamId = match[1] as string
    const after = Number(match[2])
    // Counted before the store is read, so that a flood of resumes costs no reads either.
    const principal = principalKey(request.caller)
    const running = this.#resumesBy.get(principal) ?? 0
    if (running >= MAX_RESUMES_PER_CALLER) return { kind: 'too_many' }
    this.#resumesBy.set(principal, running + 1)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      const left = (this.#resumesBy.get(principal) ?? 1) - 1
      if (left === 0) this.#resumesBy.delete(principal)
      else this.#resumesBy.set(principal, left)
    }
    try {
      // From the client's last event on: the first live one proves the owner (every event carries it) and,
      // being that event or the next, that the client misses nothing.
      const page = await this.#store.listStreamEvents(streamId, after, RESUME_PAGE)
      const first = page[0]
      if (first === undefined || first.seq > after + 1 || !safeEqual(first.owner, streamOwner(request.caller, request.session))) {
        release()
        return { kind: 'unknown' }
      }
      // Checked and taken with no await in between: one resume per stream (the SDK answers a second with 409).
      if (this.#resuming.has(streamId)) {
        release()
        return { kind: 'busy' }
      }
      this.#resuming.add(streamId)
      const releaseStream = (): void => { release(); this.#resuming.delete(streamId) }
      const body = Readable.from(this.#replay(streamId, after, page, AbortSignal.any([request.signal, AbortSignal.timeout(RESUME_WAIT_MS)])), { objectMode: false })
      // 'close' comes after the end, a client gone (Fastify destroys the body) or an error.
      body.once('close', releaseStream)
      return { kind: 'stream', body }
    } catch (error) {
      release()
      throw error
    }
  }

  /** `page` is the first read from the client's last event on; what follows that event is replayed, then read page by page until the answer. */
  async * #replay (streamId: string, after: number, page: StreamEventRecord[], signal: AbortSignal): AsyncGenerator<string> {
    // Sets the client's reconnection delay for this stream too; a field without data dispatches no event.
    yield sseEvent({ retry: STREAM_RETRY_MS })
    if (page[0]?.seq === after && page[0].final) return // the client has the answer already
    let last = after
    let events = page.filter(event => event.seq > after)
    let full = page.length === RESUME_PAGE
    for (;;) {
      let text = ''
      for (const event of events) {
        // A hole (an event expired or never stored): end here; the client's next resume from `last` is refused.
        if (event.seq !== last + 1) {
          if (text !== '') yield text
          return
        }
        text += sseEvent({ id: `${streamId}_${event.seq}`, event: 'message', data: event.message })
        last = event.seq
        if (event.final) {
          yield text
          return
        }
      }
      if (text !== '') yield text
      // A full page may have more behind it: read on at once. Otherwise wait for the handler's next event.
      if (!full) await this.#next(streamId, RESUME_POLL_MS, signal)
      if (signal.aborted) return
      try {
        events = await this.#store.listStreamEvents(streamId, last + 1, RESUME_PAGE)
      } catch (error) {
        this.#log.warn({ err: error, stream: streamId }, 'stream events not read; the resumed stream ends early')
        return
      }
      full = events.length === RESUME_PAGE
    }
  }

  /** Resolves when this process stores the stream's next event, after `ms`, or when `signal` aborts. */
  async #next (streamId: string, ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return
    let wake: () => void = () => {}
    const woken = new Promise<void>(resolve => { wake = resolve })
    const timer = setTimeout(wake, ms)
    signal.addEventListener('abort', wake, { once: true })
    let waiting = this.#waiting.get(streamId)
    if (waiting === undefined) this.#waiting.set(streamId, waiting = new Set())
    waiting.add(wake)
    try {
      await woken
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', wake)
      waiting.delete(wake)
      if (waiting.size === 0) this.#waiting.delete(streamId)
    }
  }
}
