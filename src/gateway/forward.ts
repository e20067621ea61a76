// One HTTP exchange with a backend over Streamable HTTP: the request gatehouse builds (never the client's
// credentials), a deadline for the answer's headers and for a JSON body, bounded bodies, no redirects, and
// the answer classified as empty, JSON or an event stream. Every failure is a GatewayFault with the HTTP
// status the client gets (502 bad answer, 503 unavailable, 504 too slow).
import { Readable } from 'node:stream'
import { parseSse, SseTooLargeError, type SseEvent } from './sse.ts'

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

export interface BackendRequest {
  method: 'POST' | 'GET' | 'DELETE'
  url: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
  maxBytes: number
  /** Aborted when the client goes away. */
  signal?: AbortSignal
  fetch?: typeof globalThis.fetch
}

export type BackendAnswer =
  | { kind: 'empty', status: number, headers: Headers }
  | { kind: 'json', status: number, headers: Headers, body: unknown }
  | { kind: 'stream', status: number, headers: Headers, events: AsyncGenerator<SseEvent> }

const mediaType = (value: string | null): string => (value ?? '').split(';')[0]?.trim().toLowerCase() ?? ''

/** Sends the request and classifies the answer; throws GatewayFault for anything a client cannot use. */
export async function callBackend (request: BackendRequest): Promise<BackendAnswer> {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; controller.abort() }, request.timeoutMs)
  const onClientGone = (): void => controller.abort()
  request.signal?.addEventListener('abort', onClientGone, { once: true })
  const done = (): void => { clearTimeout(timer); request.signal?.removeEventListener('abort', onClientGone) }
  let response: Response
  try {
    response = await (request.fetch ?? globalThis.fetch)(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: controller.signal
    })
  } catch (error) {
    done()
    if (timedOut) throw new GatewayFault(504, 'timeout', `the backend did not answer within ${request.timeoutMs} ms`)
    throw new GatewayFault(503, 'unavailable', 'the backend is unreachable', { cause: error })
  }
  const { status } = response
  try {
    if (status >= 300 && status < 400) throw new GatewayFault(502, 'bad_response', `the backend answered a redirect (${status}), which the gateway does not follow`)
    if (status === 401 || status === 403) throw new GatewayFault(502, 'refused', `the backend refused gatehouse's credentials (${status})`)
    if (status === 503 || status === 429) throw new GatewayFault(503, 'unavailable', `the backend is unavailable (${status})`)
    if (status === 504) throw new GatewayFault(504, 'timeout', 'the backend timed out (504)')
    if (status >= 500) throw new GatewayFault(502, 'bad_response', `the backend failed (${status})`)
  } catch (error) {
    done()
    await response.body?.cancel().catch(() => undefined)
    throw error
  }
  const type = mediaType(response.headers.get('content-type'))
  if (type === 'text/event-stream' && status === 200 && response.body !== null) {
    // Headers are in: from here the deadline is per event (the stream may run as long as it keeps talking).
    clearTimeout(timer)
    return { kind: 'stream', status, headers: response.headers, events: streamEvents(response.body, request, controller, done) }
  }
  let text: string
  try {
    text = await readBounded(response.body, request.maxBytes)
  } catch (error) {
    if (timedOut) throw new GatewayFault(504, 'timeout', `the backend did not finish its answer within ${request.timeoutMs} ms`)
    if (error instanceof GatewayFault) throw error
    throw new GatewayFault(502, 'bad_response', 'the backend\'s answer was cut off', { cause: error })
  } finally {
    done()
  }
  if (text === '' && (status === 202 || status === 204 || status === 200)) return { kind: 'empty', status: status === 204 ? 202 : status, headers: response.headers }
  if (type !== 'application/json') throw new GatewayFault(502, 'bad_response', `the backend answered ${JSON.stringify(type.slice(0, 60) || 'no content type')}, not JSON or an event stream`)
  try {
    return { kind: 'json', status, headers: response.headers, body: JSON.parse(text) as unknown }
  } catch {
    throw new GatewayFault(502, 'bad_response', 'the backend answered malformed JSON')
  }
}

async function readBounded (body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.byteLength
    if (size > maxBytes) {
      await body.cancel().catch(() => undefined)
      throw new GatewayFault(502, 'bad_response', `the backend's answer exceeds ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The backend's events, each within `timeoutMs` of the previous one. Ending early cancels the backend request. */
async function * streamEvents (body: ReadableStream<Uint8Array>, request: BackendRequest, controller: AbortController, done: () => void): AsyncGenerator<SseEvent> {
  let idle: NodeJS.Timeout | undefined
  let timedOut = false
  const arm = (): void => {
    clearTimeout(idle)
    idle = setTimeout(() => { timedOut = true; controller.abort() }, request.timeoutMs)
  }
  const chunks = Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>)
  try {
    arm()
    for await (const event of parseSse(chunks, request.maxBytes)) {
      arm()
      yield event
    }
  } catch (error) {
    if (timedOut) throw new GatewayFault(504, 'timeout', `the backend's stream was silent for ${request.timeoutMs} ms`)
    if (error instanceof SseTooLargeError) throw new GatewayFault(502, 'bad_response', `the backend sent ${error.message}`)
    if (controller.signal.aborted) return
    throw new GatewayFault(502, 'bad_response', 'the backend\'s stream broke off', { cause: error })
  } finally {
    clearTimeout(idle)
    done()
    controller.abort()
    chunks.destroy()
  }
}
