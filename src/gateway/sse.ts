// Server-sent events (WHATWG HTML §9.2) read from a backend's byte stream, one event at a time, with a size
// bound per event, and written back out. Only what Streamable HTTP uses: event, data, id, retry.
export interface SseEvent {
  event?: string
  data: string
  id?: string
  retry?: string
}

export class SseTooLargeError extends Error {
  constructor (limit: number) { super(`an event exceeds ${limit} bytes`); this.name = 'SseTooLargeError' }
}

/**
 * A push parser: `push` takes the next UTF-8 bytes and returns the events they complete, `end` those the end of
 * the stream completes. Throws SseTooLargeError when one event grows past `maxEventBytes`.
 */
export class SseParser {
  readonly #decoder = new TextDecoder()
  readonly #max: number
  #buffer = ''
  #current: { event?: string, data: string[], id?: string, retry?: string, size: number } = { data: [], size: 0 }

  constructor (maxEventBytes: number) {
    this.#max = maxEventBytes
  }

  push (chunk: Uint8Array): SseEvent[] {
    const out: SseEvent[] = []
    this.#buffer += this.#decoder.decode(chunk, { stream: true })
    if (this.#buffer.length > this.#max * 2) throw new SseTooLargeError(this.#max)
    let newline: number
    while ((newline = this.#buffer.search(/\r\n|\r|\n/)) !== -1) {
      const buffer = this.#buffer
      // A lone \r at the end of the buffer may be the first half of \r\n: wait for the next chunk.
      if (buffer[newline] === '\r' && newline === buffer.length - 1) break
      this.#buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
      this.#take(buffer.slice(0, newline), out)
    }
    return out
  }

  end (): SseEvent[] {
    const out: SseEvent[] = []
    this.#buffer += this.#decoder.decode()
    // A CR held back in case LF followed ends the last line; anything else left is an unfinished line, and a
    // stream that ends mid-event dispatches nothing (WHATWG: pending data is discarded).
    if (this.#buffer.endsWith('\r')) this.#take(this.#buffer.slice(0, -1), out)
    this.#buffer = ''
    return out
  }

  #take (line: string, out: SseEvent[]): void {
    const current = this.#current
    if (line === '') {
      if (current.data.length > 0 || current.event !== undefined) {
        const event: SseEvent = { data: current.data.join('\n') }
        if (current.event !== undefined) event.event = current.event
        if (current.id !== undefined) event.id = current.id
        if (current.retry !== undefined) event.retry = current.retry
        out.push(event)
      }
      this.#current = { data: [], size: 0 }
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    current.size += line.length
    if (current.size > this.#max) throw new SseTooLargeError(this.#max)
    if (field === 'data') current.data.push(value)
    else if (field === 'event') current.event = value
    else if (field === 'id' && !value.includes('\0')) current.id = value
    else if (field === 'retry' && /^\d+$/.test(value)) current.retry = value
  }
}

/** Parses `chunks` (UTF-8 bytes) into events; throws SseTooLargeError when one event grows past `maxEventBytes`. */
export async function * parseSse (chunks: AsyncIterable<Uint8Array>, maxEventBytes: number): AsyncGenerator<SseEvent> {
  const parser = new SseParser(maxEventBytes)
  for await (const chunk of chunks) yield * parser.push(chunk)
  yield * parser.end()
}

/** One event in wire form. Data lines are split so an embedded newline cannot start a field of its own. */
export function formatSse (event: SseEvent): string {
  let out = ''
  if (event.event !== undefined) out += `event: ${event.event}\n`
  if (event.id !== undefined) out += `id: ${event.id}\n`
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return out + '\n'
}
