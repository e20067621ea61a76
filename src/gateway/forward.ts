// One HTTP exchange with a backend over Streamable HTTP: the request gatehouse builds (never the client's
// credentials), a deadline for the answer's headers and for a JSON body, bounded bodies, no redirects, and
// the answer classified as empty, JSON or an event stream. Every failure is a GatewayFault with the HTTP
// status the client gets (502 bad answer, 503 unavailable, 504 too slow).
// The exchange goes through node:http(s) with a keep-alive agent per gateway (BackendConnections): a forwarded
// call reuses an idle connection to its backend instead of opening one, and no WHATWG stream sits between the
// backend's bytes and the client (benchmarks: BENCHMARKS.md, "Gateway throughput, session 8").
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ClientRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { urlToHttpOptions } from 'node:url'
import { SseParser, SseTooLargeError, type SseEvent } from './sse.ts'

export class GatewayFault extends Error {
  readonly status: 502 | 503 | 504
  /** Stable word for the audit log. */
  readonly outcome: 'bad_response' | 'unavailable' | 'timeout' | 'refused'
  constructor (status: 502 | 503 | 504, outcome: GatewayFault['outcome'], message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'GatewayFault'
    this.status = status
    this.outcome = outcome
  }
}

/** Keep-alive connection pools to the backends, one per scheme; `close` drops the idle ones. */
export class BackendConnections {
  readonly http = new HttpAgent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 64 })
  readonly https = new HttpsAgent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 64 })
  close (): void {
    this.http.destroy()
    this.https.destroy()
  }
}

/** For callers that bring no pool of their own (each call still reuses this process's idle connections). */
const SHARED = new BackendConnections()

export interface BackendRequest {
  method: 'POST' | 'GET' | 'DELETE'
  url: string
  headers: Record<string, string>
  body?: string | Buffer
  timeoutMs: number
  maxBytes: number
  /** Subscribes to the client going away (returns the unsubscribe); the backend exchange is then dropped. */
  onClientGone?: ClientGone
  connections?: BackendConnections
}

export type BackendAnswer =
  | { kind: 'empty', status: number, headers: IncomingHttpHeaders }
  /** `raw` is the backend's body as received (valid JSON): relayed as is unless it must be filtered. */
  | { kind: 'json', status: number, headers: IncomingHttpHeaders, body: unknown, raw: Buffer }
  /** `events` yields the events of each chunk as it arrives; `complete()` is true once the backend's whole stream is in. */
  | { kind: 'stream', status: number, headers: IncomingHttpHeaders, events: AsyncGenerator<SseEvent[]>, complete: () => boolean }

export type ClientGone = (listener: () => void) => () => void

const mediaType = (value: string | undefined): string => (value ?? '').split(';')[0]?.trim().toLowerCase() ?? ''

class Timeout extends Error {}

/** Sends the request and classifies the answer; throws GatewayFault for anything a client cannot use. */
export async function callBackend (request: BackendRequest): Promise<BackendAnswer> {
  let timedOut = false
  let current: ClientRequest | undefined
  const timer = setTimeout(() => { timedOut = true; current?.destroy(new Timeout()) }, request.timeoutMs)
  let clientGone = false
  const unsubscribe = request.onClientGone?.(() => { clientGone = true; current?.destroy() })
  const done = (): void => { clearTimeout(timer); unsubscribe?.() }
  let response: IncomingMessage
  try {
    response = await send(request, req => { current = req; if (clientGone) req.destroy() }, () => clientGone)
  } catch (error) {
    done()
    if (timedOut) throw new GatewayFault(504, 'timeout', `the backend did not answer within ${request.timeoutMs} ms`)
    throw new GatewayFault(503, 'unavailable', 'the backend is unreachable', { cause: error })
  }
  const status = response.statusCode ?? 502
  try {
    if (status >= 300 && status < 400) throw new GatewayFault(502, 'bad_response', `the backend answered a redirect (${status}), which the gateway does not follow`)
    if (status === 401 || status === 403) throw new GatewayFault(502, 'refused', `the backend refused gatehouse's credentials (${status})`)
    if (status === 503 || status === 429) throw new GatewayFault(503, 'unavailable', `the backend is unavailable (${status})`)
    if (status === 504) throw new GatewayFault(504, 'timeout', 'the backend timed out (504)')
    if (status >= 500) throw new GatewayFault(502, 'bad_response', `the backend failed (${status})`)
  } catch (error) {
    done()
    response.destroy()
    throw error
  }
  const { headers } = response
  const type = mediaType(headers['content-type'])
  if (type === 'text/event-stream' && status === 200) {
    // Headers are in: from here the deadline is per event (the stream may run as long as it keeps talking).
    clearTimeout(timer)
    done()
    return { kind: 'stream', status, headers, events: streamEvents(response, request), complete: () => response.complete }
  }
  let raw: Buffer
  try {
    raw = await readBounded(response, request.maxBytes)
  } catch (error) {
    if (timedOut) throw new GatewayFault(504, 'timeout', `the backend did not finish its answer within ${request.timeoutMs} ms`)
    if (error instanceof GatewayFault) throw error
    throw new GatewayFault(502, 'bad_response', 'the backend\'s answer was cut off', { cause: error })
  } finally {
    done()
  }
  if (raw.length === 0 && (status === 202 || status === 204 || status === 200)) return { kind: 'empty', status: status === 204 ? 202 : status, headers }
  if (type !== 'application/json') throw new GatewayFault(502, 'bad_response', `the backend answered ${JSON.stringify(type.slice(0, 60) || 'no content type')}, not JSON or an event stream`)
  try {
    return { kind: 'json', status, headers, body: JSON.parse(raw.toString('utf8')) as unknown, raw }
  } catch {
    throw new GatewayFault(502, 'bad_response', 'the backend answered malformed JSON')
  }
}

/**
 * The request on a pooled connection. A reused keep-alive connection the backend closed while it sat idle
 * fails with ECONNRESET before any answer: that one case is sent again once, on a fresh connection (the
 * backend never read the first attempt; Node's documented `reusedSocket` pattern).
 */
async function send (request: BackendRequest, started: (req: ClientRequest) => void, gone: () => boolean, retried = false): Promise<IncomingMessage> {
  const target = targetOf(request.url)
  const https = target.protocol === 'https:'
  const connections = request.connections ?? SHARED
  const headers: Record<string, string | number> = request.headers
  const body = request.body
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body)
  try {
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)({ ...target, method: request.method, headers, agent: https ? connections.https : connections.http }, resolve)
      started(req)
      req.once('error', error => { (error as { reusedSocket?: boolean }).reusedSocket = req.reusedSocket; reject(error) })
      req.end(body)
    })
  } catch (error) {
    const reset = (error as { code?: string, reusedSocket?: boolean })
    if (!retried && reset.reusedSocket === true && reset.code === 'ECONNRESET' && !gone()) return await send(request, started, gone, true)
    throw error
  }
}

type Target = ReturnType<typeof urlToHttpOptions>
/** Backend URLs come from the configuration only (a handful), so each is turned into request options once, not on every call. */
const TARGETS = new Map<string, Target>()

function targetOf (url: string): Target {
  let target = TARGETS.get(url)
  if (target === undefined) {
    target = urlToHttpOptions(new URL(url))
    if (TARGETS.size < 1000) TARGETS.set(url, target)
  }
  return target
}

async function readBounded (response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers['content-length'])
  if (declared > maxBytes) {
    response.destroy()
    throw new GatewayFault(502, 'bad_response', `the backend's answer exceeds ${maxBytes} bytes`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > maxBytes) {
      response.destroy()
      throw new GatewayFault(502, 'bad_response', `the backend's answer exceeds ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  // A connection that broke off mid-body ends the iteration with an error (aborted), not silently.
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
}

/** The backend's events, a batch per chunk, each within `timeoutMs` of the previous one. Ending early drops the connection. */
async function * streamEvents (response: IncomingMessage, request: BackendRequest): AsyncGenerator<SseEvent[]> {
  let idle: NodeJS.Timeout | undefined
  let timedOut = false
  let clientGone = false
  const unsubscribe = request.onClientGone?.(() => { clientGone = true; response.destroy() })
  const arm = (): void => {
    if (idle === undefined) idle = setTimeout(() => { timedOut = true; response.destroy(new Timeout()) }, request.timeoutMs)
    else idle.refresh()
  }
  const parser = new SseParser(request.maxBytes)
  try {
    arm()
    for await (const chunk of response as AsyncIterable<Buffer>) {
      const events = parser.push(chunk)
      if (events.length > 0) {
        arm()
        yield events
      }
    }
    const last = parser.end()
    if (last.length > 0) yield last
  } catch (error) {
    if (timedOut) throw new GatewayFault(504, 'timeout', `the backend's stream was silent for ${request.timeoutMs} ms`)
    if (error instanceof SseTooLargeError) throw new GatewayFault(502, 'bad_response', `the backend sent ${error.message}`)
    if (clientGone) return
    throw new GatewayFault(502, 'bad_response', 'the backend\'s stream broke off', { cause: error })
  } finally {
    clearTimeout(idle)
    unsubscribe?.()
    // Ended early (the client left, a fault): the connection is dropped, not returned to the pool mid-stream.
    if (!response.complete) response.destroy()
  }
}
