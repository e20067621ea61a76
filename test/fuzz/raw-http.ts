// A raw HTTP/1.1 client over a TCP socket: it sends exactly the bytes it is given (duplicated headers,
// control characters, lying Content-Length, truncated and huge bodies) — things fetch() and node:http refuse
// to send — and reads the answer until the server closes the connection (Connection: close).
import { connect } from 'node:net'

export interface RawRequest {
  method: string
  /** Path and query, sent verbatim. */
  target: string
  /** Name/value pairs, in order, repeats allowed, sent verbatim (no validation). */
  headers: Array<[string, string]>
  body?: Buffer
  /** Send only the first `truncateTo` bytes of the body, then half-close the socket. */
  truncateTo?: number
  /** Send the body with Transfer-Encoding: chunked in chunks of this size (instead of Content-Length). */
  chunked?: number
}

export interface RawResponse {
  status: number
  headers: Map<string, string>
  body: Buffer
}

export type RawOutcome =
  | { kind: 'response', response: RawResponse, ms: number }
  /** The server closed or reset the connection without a complete response. */
  | { kind: 'closed', ms: number, detail: string }
  | { kind: 'timeout', ms: number }

function serialize (request: RawRequest): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`]
  const names = new Set(request.headers.map(([n]) => n.toLowerCase()))
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`)
  if (!names.has('connection')) lines.push('Connection: close')
  if (request.body !== undefined && request.chunked === undefined && !names.has('content-length')) lines.push(`Content-Length: ${request.body.length}`)
  if (request.chunked !== undefined && !names.has('transfer-encoding')) lines.push('Transfer-Encoding: chunked')
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8')
}

function* bodyChunks (request: RawRequest): Generator<Buffer> {
  const body = request.body
  if (body === undefined) return
  const end = request.truncateTo === undefined ? body.length : Math.min(request.truncateTo, body.length)
  if (request.chunked !== undefined) {
    for (let i = 0; i < end; i += request.chunked) {
      const part = body.subarray(i, Math.min(i + request.chunked, end))
      yield Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')])
    }
    if (request.truncateTo === undefined) yield Buffer.from('0\r\n\r\n')
    return
  }
  const step = 256 * 1024
  for (let i = 0; i < end; i += step) yield body.subarray(i, Math.min(i + step, end))
}

/** Sends one request on a fresh connection and waits (at most `timeoutMs`) for the server to answer and close. */
export async function rawRequest (port: number, request: RawRequest, timeoutMs = 10_000): Promise<RawOutcome> {
  const started = performance.now()
  return await new Promise<RawOutcome>(resolve => {
    const socket = connect(port, '127.0.0.1')
    const received: Buffer[] = []
    let settled = false
    const finish = (outcome: RawOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ kind: 'timeout', ms: performance.now() - started }), timeoutMs)
    const conclude = (detail: string): void => {
      const ms = performance.now() - started
      const response = parseResponse(Buffer.concat(received), request.method === 'HEAD')
      finish(response === undefined ? { kind: 'closed', ms, detail } : { kind: 'response', response, ms })
    }
    socket.on('data', chunk => received.push(chunk))
    socket.on('end', () => conclude('end'))
    socket.on('close', () => conclude('close'))
    socket.on('error', error => conclude((error as NodeJS.ErrnoException).code ?? error.message))
    socket.on('connect', () => {
      void (async () => {
        const write = (data: Buffer): Promise<void> => new Promise(resolve => {
          if (socket.destroyed || socket.writableEnded) { resolve(); return }
          if (socket.write(data)) resolve()
          else { socket.once('drain', () => resolve()); socket.once('close', () => resolve()) }
        })
        await write(serialize(request))
        for (const chunk of bodyChunks(request)) {
          if (socket.destroyed || received.length > 0) break // the server answered early (e.g. 413): stop sending
          await write(chunk)
        }
        if (request.truncateTo !== undefined && !socket.destroyed) socket.end()
      })()
    })
  })
}

/** Parses a complete response (Content-Length, chunked or read-to-close); undefined when incomplete. */
export function parseResponse (raw: Buffer, headOnly = false): RawResponse | undefined {
  const headEnd = raw.indexOf('\r\n\r\n')
  if (headEnd < 0) return undefined
  const head = raw.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')
  if (status === null) return undefined
  const headers = new Map<string, string>()
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value)
  }
  let body = raw.subarray(headEnd + 4)
  if (headOnly) return { status: Number(status[1]), headers, body: Buffer.alloc(0) }
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked') === true) {
    const parts: Buffer[] = []
    let at = 0
    for (;;) {
      const lineEnd = body.indexOf('\r\n', at)
      if (lineEnd < 0) return undefined
      const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16)
      if (!Number.isFinite(size)) return undefined
      if (size === 0) break
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
    body = Buffer.concat(parts)
  } else if (headers.has('content-length')) {
    const length = Number(headers.get('content-length'))
    if (body.length < length) return undefined
    body = body.subarray(0, length)
  }
  return { status: Number(status[1]), headers, body }
}
