// Resumable response streams (Streamable HTTP 2025-11-25, "Resumability and Redelivery", SEP-1699): a legacy-era
// POST answered with text/event-stream starts with a priming event (an id, a `retry:` field, empty data), and
// every event after it has an id `<stream>_<seq>` and is stored (StreamEventStore: DynamoDB, short TTL) before
// it is written. When the stream breaks off — the client's network, or the handler closing it on purpose
// (closeSSEStream: polling) — the client sends GET with Last-Event-ID, which may reach any instance: that one
// replays the stored events after the id and waits, bounded, for the rest (notified at once when the handler
// runs in the same process, by polling the store otherwise), then ends the stream.
// A stream belongs to the caller and session that opened it (`streamOwner`); a Last-Event-ID of anyone else's
// stream reads as an unknown stream. Stored events expire after STREAM_EVENT_TTL_SECONDS.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { Readable, type Writable } from 'node:stream'
import type { Clock } from '../ports/clock.ts'
import type { StreamEventRecord, StreamEventStore } from '../ports/stream-events.ts'
import type { Caller } from './caller.ts'
import type { McpSession } from './session.ts'

/** The `retry:` a client waits before it reconnects (milliseconds). */
export const STREAM_RETRY_MS = 1000
/** How long stored events can be resumed from. */
export const STREAM_EVENT_TTL_SECONDS = 300
/** How long a resuming GET waits for events still to come before it ends (the client then resumes again). */
export const RESUME_WAIT_MS = 10_000
/** How often a resuming GET looks at the store when the handler runs in another process. */
const RESUME_POLL_MS = 500
/** Events per stream (the key schema's bound); a stream that would exceed it stops being stored. */
const MAX_EVENTS = 999_999

const EVENT_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_(\d{1,6})$/

interface Logger {
  warn: (fields: Record<string, unknown>, message: string) => void
}

export interface ResumableStreamsOptions {
  store: StreamEventStore
  clock: Clock
  log: Logger
}

/**
 * Who may resume a stream: the user through the client that opened it (issuer, subject, client: as sessions,
 * so that a step-up's new grant can resume too) and, if it had one, in the same session.
 */
export function streamOwner (caller: Caller, session: McpSession | undefined): string {
  return createHash('sha256').update(JSON.stringify(['gatehouse mcp stream', caller.issuer, caller.sub, caller.clientId, session?.nonce ?? null])).digest('base64url')
}

const sameOwner = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

function eventText (id: string, message: string): string {
  // JSON.stringify never yields a raw newline, so the message is one data line.
  return message === '' ? `id: ${id}\nretry: ${STREAM_RETRY_MS}\ndata: \n\n` : `id: ${id}\nevent: message\ndata: ${message}\n\n`
}

/** One response stream being written: events are stored, then written, strictly in order. */
export class ResumableStream {
  readonly id = randomUUID()
  readonly #streams: ResumableStreams
  readonly #out: Writable
  readonly #owner: string
  #seq = 0
  #tail: Promise<void> = Promise.resolve()
  #storing = true

  constructor (streams: ResumableStreams, out: Writable, owner: string) {
    this.#streams = streams
    this.#out = out
    this.#owner = owner
    this.#append('', false)
  }

  /** Stores a message and writes it, unless the stream was closed meanwhile (it stays stored for a resume). */
  send (message: unknown, final = false): void {
    this.#append(JSON.stringify(message), final)
  }

  /** Ends the HTTP response now; what follows is stored only, for the client's GET (SDK v1: closeSSEStream). */
  close (): void {
    this.#tail = this.#tail.then(() => { if (!this.#out.writableEnded) this.#out.end() })
  }

  #append (message: string, final: boolean): void {
    const seq = this.#seq++
    this.#tail = this.#tail.then(async () => {
      if (this.#storing && seq <= MAX_EVENTS) {
        try {
          await this.#streams.store(this.id, { streamId: this.id, seq, owner: this.#owner, message, final })
        } catch (error) {
          // The live stream goes on; only a resume of it is no longer possible.
          this.#storing = false
          this.#streams.log.warn({ err: error, stream: this.id }, 'stream event not stored; this stream cannot be resumed')
        }
      }
      if (!this.#out.writableEnded && !this.#out.destroyed) this.#out.write(eventText(`${this.id}_${seq}`, message))
    })
  }
}

export class ResumableStreams {
  readonly log: Logger
  readonly #store: StreamEventStore
  readonly #clock: Clock
  /** GETs of this process waiting for a stream's next event, by stream id. */
  readonly #waiting = new Map<string, Set<() => void>>()

  constructor (options: ResumableStreamsOptions) {
    this.#store = options.store
    this.#clock = options.clock
    this.log = options.log
  }

  /** Starts a resumable stream on `out`: the priming event is its first event. */
  open (out: Writable, owner: string): ResumableStream {
    return new ResumableStream(this, out, owner)
  }

  /** Stores one event and wakes this process's GETs waiting for it. */
  async store (streamId: string, event: Omit<StreamEventRecord, 'expiresAt'>): Promise<void> {
    await this.#store.saveStreamEvent({ ...event, expiresAt: this.#clock.now() + STREAM_EVENT_TTL_SECONDS })
    for (const wake of this.#waiting.get(streamId) ?? []) wake()
  }

  /**
   * The rest of the stream `lastEventId` belongs to, as event-stream text, if `owner` opened it and it has not
   * expired; undefined otherwise (unknown, malformed, expired or someone else's: the same answer for each).
   */
  async resume (owner: string, lastEventId: string): Promise<Readable | undefined> {
    const match = EVENT_ID.exec(lastEventId)
    if (match === null) return undefined
    const streamId = match[1] as string
    const after = Number(match[2])
    const events = await this.#store.listStreamEvents(streamId)
    const priming = events[0]
    if (priming === undefined || priming.seq !== 0 || !sameOwner(priming.owner, owner)) return undefined
    return Readable.from(this.#replay(streamId, after, events), { objectMode: false })
  }

  async * #replay (streamId: string, after: number, first: StreamEventRecord[]): AsyncGenerator<string> {
    // Sets the client's reconnection delay for this stream too; a field without data dispatches no event.
    yield `retry: ${STREAM_RETRY_MS}\n\n`
    const deadline = Date.now() + RESUME_WAIT_MS
    let last = after
    let events = first
    for (;;) {
      let text = ''
      for (const event of events) {
        if (event.seq <= last) {
          if (event.final) return // the client has the answer already
          continue
        }
        text += eventText(`${streamId}_${event.seq}`, event.message)
        last = event.seq
        if (event.final) {
          yield text
          return
        }
      }
      if (text !== '') yield text
      const left = deadline - Date.now()
      if (left <= 0) return
      await this.#next(streamId, Math.min(RESUME_POLL_MS, left))
      try {
        events = await this.#store.listStreamEvents(streamId)
      } catch (error) {
        this.log.warn({ err: error, stream: streamId }, 'stream events not read; the resumed stream ends early')
        return
      }
    }
  }

  /** Resolves when this process stores the stream's next event, or after `ms`. */
  async #next (streamId: string, ms: number): Promise<void> {
    let wake: () => void = () => {}
    const woken = new Promise<void>(resolve => { wake = resolve })
    const timer = setTimeout(wake, ms)
    let waiting = this.#waiting.get(streamId)
    if (waiting === undefined) this.#waiting.set(streamId, waiting = new Set())
    waiting.add(wake)
    try {
      await woken
    } finally {
      clearTimeout(timer)
      waiting.delete(wake)
      if (waiting.size === 0) this.#waiting.delete(streamId)
    }
  }
}
