// Streamable HTTP rules for a stateless, JSON-response MCP endpoint (MCP 2025-06-18 / 2025-11-25 "Transports"):
// what a POST must look like before anything reaches the server. Pure functions; the route applies them.
import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '@modelcontextprotocol/sdk/types.js'

import { INVALID_REQUEST, TRANSPORT_ERROR } from './errors.ts'


/** A batch may hold at most this many messages (2025-03-26 clients only; later revisions have no batches). */
export const MAX_BATCH = 20

export class McpHttpError extends Error {
  readonly status: number
  readonly code: number
  readonly id: RequestId | null
  readonly data: unknown
  constructor (status: number, code: number, message: string, id: RequestId | null = null, data?: unknown) {
    super(message)
    this.name = 'McpHttpError'
    this.status = status
    this.code = code
    this.id = id
    this.data = data
  }

  toJSON (): { jsonrpc: '2.0', id: RequestId | null, error: { code: number, message: string, data?: unknown } } {
    return { jsonrpc: '2.0', id: this.id, error: { code: this.code, message: this.message, ...(this.data === undefined ? {} : { data: this.data }) } }
  }
}

/**
 * The id of a body that is one JSON-RPC request, so that refusals of it answer under its id (JSON-RPC 2.0 §5:
 * null only when the id cannot be read). A batch has no single id.
 */
export function requestIdOf (body: unknown): RequestId | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null
  const id = (body as { id?: unknown }).id
  return isRequestId(id) ? id : null
}

/**
 * MCP-Protocol-Version: absent means 2025-03-26 (the spec's fallback); an unsupported value is 400.
 * Returns the version the request speaks.
 */
export function protocolVersion (header: string | string[] | undefined, id: RequestId | null = null): string {
  if (header === undefined) return '2025-03-26'
  const value = Array.isArray(header) ? header[0] ?? '' : header
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(value)) {
    throw new McpHttpError(400, TRANSPORT_ERROR, `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(value.slice(0, 40))} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`, id)
  }
  return value
}

/** The fields of one event-stream event (HTML, "Server-sent events"); a block without data only sets fields such as retry. */
export interface SseFields {
  id?: string
  event?: string
  retry?: number
  /** One line: a JSON-RPC message (JSON.stringify never writes a raw newline), or '' for a priming event. */
  data?: string
}

/** One event-stream event as written on the wire: every event /mcp sends is framed here. */
export function sseEvent ({ id, event, retry, data }: SseFields): string {
  let text = ''
  if (id !== undefined) text += `id: ${id}\n`
  if (event !== undefined) text += `event: ${event}\n`
  if (retry !== undefined) text += `retry: ${retry}\n`
  if (data !== undefined) text += `data: ${data}\n`
  return `${text}\n`
}

/** A JSON-RPC message as a `message` event. */
export const sseMessage = (message: unknown, id?: string): string =>
  sseEvent({ ...(id === undefined ? {} : { id }), event: 'message', data: JSON.stringify(message) })

/** Every answer here is application/json, so a client must accept it (it should also list text/event-stream). */
export function assertAcceptsJson (accept: string | undefined, id: RequestId | null = null, code = TRANSPORT_ERROR): void {
  if (accept === undefined || accept === '') return
  if (/(^|,)\s*(application\/json|application\/\*|\*\/\*)\s*(;|,|$)/i.test(accept)) return
  throw new McpHttpError(406, code, 'Not Acceptable: the client must accept application/json', id)
}

/** Content-Type is application/json (parameters such as charset allowed). */
export function isJsonMediaType (contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const semicolon = contentType.indexOf(';')
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/json'
}

export function isRequestId (value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The SDK's request schema, checked cheaply: params absent or an object, `_meta` an object, a progress token
 * a string or number. The SDK silently drops anything else without answering, which would leave the HTTP
 * request waiting forever.
 */
function validParams (params: unknown): boolean {
  if (params === undefined) return true
  if (!isPlainObject(params)) return false
  const meta = params._meta
  if (meta === undefined) return true
  if (!isPlainObject(meta)) return false
  const token = meta.progressToken
  return token === undefined || typeof token === 'string' || (typeof token === 'number' && Number.isInteger(token))
}

function validMessage (value: unknown): value is JSONRPCMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const m = value as Record<string, unknown>
  if (m.jsonrpc !== '2.0') return false
  if (typeof m.method === 'string') return validParams(m.params) && (!('id' in m) || isRequestId(m.id))
  // A response (to a server request; gatehouse sends none, so these are accepted and dropped).
  return isRequestId(m.id) && ('result' in m || 'error' in m)
}

export interface ParsedBody {
  batch: boolean
  /** Requests to answer; notifications are acknowledged and dropped. */
  requests: JSONRPCRequest[]
  /** Responses (to a request this server sent the client; otherwise acknowledged and dropped). */
  responses: Array<{ id: RequestId, result?: unknown, error?: unknown }>
}

/** The body Fastify parsed as JSON: one JSON-RPC message (or, for 2025-03-26, a batch). */
export function parseBody (body: unknown, version: string): ParsedBody {
  const batch = Array.isArray(body)
  if (batch) {
    if (version >= '2025-06-18') throw new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: JSON-RPC batches are not supported in this protocol version')
    if (body.length === 0 || body.length > MAX_BATCH) throw new McpHttpError(400, INVALID_REQUEST, `Invalid Request: a batch holds 1 to ${MAX_BATCH} messages`)
  }
  const messages: unknown[] = batch ? body : [body]
  const requests: JSONRPCRequest[] = []
  const responses: ParsedBody['responses'] = []
  const ids = new Set<RequestId>()
  for (const message of messages) {
    if (!validMessage(message)) {
      const id = (message as { id?: unknown } | null)?.id
      throw new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 message', isRequestId(id) ? id : null)
    }
    if ('method' in message && 'id' in message) {
      if (ids.has(message.id)) throw new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: duplicate id in batch', message.id)
      ids.add(message.id)
      requests.push(message as JSONRPCRequest)
    } else if (!('method' in message)) {
      responses.push(message as ParsedBody['responses'][number])
    }
  }
  return { batch, requests, responses }
}
