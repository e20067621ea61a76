// The gateway: JSON-RPC for /mcp/<name> forwarded to the backend over Streamable HTTP (either protocol era:
// MCP-* headers travel both ways), answers relayed (JSON, or an event stream passed through event by event).
// The client's token stays here: the backend gets gatehouse's own short-lived JWT (or a static secret). The
// backend's tools are filtered by the caller's scopes and groups; its sessions are bound to the caller's
// grant. Every forwarded call is audited. Each HTTP exchange carries exactly one client request to the
// backend and relays that exchange's answer only, so one user's answer can never reach another.
import { Readable } from 'node:stream'
import type { BackendConfig } from '../config.ts'
import type { Caller } from '../mcp/caller.ts'
import { INVALID_PARAMS, INVALID_REQUEST, INTERNAL_ERROR, TRANSPORT_ERROR } from '../mcp/errors.ts'
import { McpHttpError, isJsonMediaType, isRequestId } from '../mcp/http.ts'
import type { AuditLog } from '../ports/audit.ts'
import type { Clock } from '../ports/clock.ts'
import type { BackendTokens } from './backend-token.ts'
import type { IncomingHttpHeaders } from 'node:http'
import { callBackend, GatewayFault, type BackendAnswer, type BackendConnections, type ClientGone } from './forward.ts'
import { filterToolsResult, toolAllowed } from './policy.ts'
import type { GatewaySessions, OpenSession } from './sessions.ts'
import { formatSse, type SseEvent } from './sse.ts'

type RequestId = string | number

/** The sealed session id a request carried and the backend's session id it opened to (for this grant and backend). */
interface PresentedSession { presented: string, backendSessionId: string }

export interface GatewayReply {
  status: number
  headers: Record<string, string>
  /** JSON value, an event stream, or nothing. */
  body?: unknown
  contentType?: 'application/json' | 'text/event-stream'
}

export interface GatewayRequest {
  caller: Caller
  headers: Record<string, string | string[] | undefined>
  /** Subscribes to the client disconnecting before its answer was sent (returns the unsubscribe). */
  onClientGone?: ClientGone
}

export interface GatewayOptions {
  tokens: Pick<BackendTokens, 'tokenFor'>
  sessions: GatewaySessions
  audit: AuditLog
  clock: Clock
  /** Reads a static credential by ARN (Secrets Manager or SSM). */
  readSecret: (arn: string) => Promise<string>
  /** Keep-alive pools to the backends (a process-wide one when absent). */
  connections?: BackendConnections
}

const SESSION = 'mcp-session-id'
const header = (headers: GatewayRequest['headers'], name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * JSON-RPC batches exist only in MCP 2025-03-26 (also the version a client that sends no MCP-Protocol-Version
 * header is assumed to speak); later revisions removed them. The gateway forwards one message per exchange
 * (each answer relayed to its own request only), so a batch is refused whole, as the JSON-RPC 2.0 spec answers
 * a batch it cannot take: one error object, id null, -32600. The message says which of the two cases it is.
 */
function batchRefusal (protocolVersion: string | undefined): McpHttpError {
  if (protocolVersion === undefined || protocolVersion === '2025-03-26') return new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: this gateway does not forward JSON-RPC batches; send each message in its own request')
  return new McpHttpError(400, INVALID_REQUEST, `Invalid Request: JSON-RPC batches do not exist in protocol version ${protocolVersion.slice(0, 40)}`)
}

export class Gateway {
  readonly #options: GatewayOptions
  readonly #secrets = new Map<string, Promise<string>>()

  constructor (options: GatewayOptions) {
    this.#options = options
  }

  /** POST: one JSON-RPC message (request, notification or response to a backend request). */
  async post (backend: BackendConfig, request: GatewayRequest, body: unknown): Promise<GatewayReply> {
    const { caller } = request
    if (!isJsonMediaType(header(request.headers, 'content-type'))) throw new McpHttpError(415, TRANSPORT_ERROR, 'Unsupported Media Type: Content-Type must be application/json')
    if (Array.isArray(body)) throw batchRefusal(header(request.headers, 'mcp-protocol-version'))
    if (body === null || typeof body !== 'object' || (body as { jsonrpc?: unknown }).jsonrpc !== '2.0') throw new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 message')
    const message = body as { id?: unknown, method?: unknown, params?: unknown }
    const id = isRequestId(message.id) ? message.id : null
    const method = typeof message.method === 'string' ? message.method : 'response'
    let tool: string | undefined
    if (method === 'tools/call') {
      const name = (message.params as { name?: unknown } | undefined)?.name
      if (typeof name !== 'string') throw new McpHttpError(400, INVALID_PARAMS, 'Invalid params: tools/call needs a tool name', id)
      tool = name
      if (!toolAllowed(backend.tools, caller, name)) {
        this.#options.audit.event('gateway.tool_denied', { sub: caller.sub, client_id: caller.clientId, backend: backend.name, tool: name })
        // Hidden, not forbidden: the same answer as for a tool that does not exist.
        return { status: 200, headers: {}, contentType: 'application/json', body: { jsonrpc: '2.0', id, error: { code: INVALID_PARAMS, message: `Unknown tool: ${name}` } } }
      }
    }
    const listId = method === 'tools/list' ? id : null
    return await this.#exchange(backend, request, { method: 'POST', body: JSON.stringify(body), rpcMethod: method, tool, id, listId })
  }

  /** GET: the backend's stream of server-initiated messages for a session. */
  async get (backend: BackendConfig, request: GatewayRequest): Promise<GatewayReply> {
    return await this.#exchange(backend, request, { method: 'GET', rpcMethod: 'GET', id: null, listId: null })
  }

  /** DELETE: the client ends its session. */
  async delete (backend: BackendConfig, request: GatewayRequest): Promise<GatewayReply> {
    const reply = await this.#exchange(backend, request, { method: 'DELETE', rpcMethod: 'DELETE', id: null, listId: null })
    const presented = header(request.headers, SESSION)
    if (presented !== undefined && reply.status < 300) this.#options.sessions.forget(presented)
    return reply
  }

  /** Ends a session on the backend (its grant was revoked). */
  async end (backend: BackendConfig, session: OpenSession): Promise<void> {
    const headers = { ...await this.#credentials(backend, session.caller), [SESSION]: session.backendSessionId, accept: 'application/json, text/event-stream' }
    const answer = await callBackend({ method: 'DELETE', url: backend.url, headers, timeoutMs: backend.timeoutMs, maxBytes: backend.maxResponseBytes, ...this.#connections() })
    if (answer.kind === 'stream') await answer.events.return(undefined)
    this.#options.audit.event('gateway.session_ended', { sub: session.caller.sub, client_id: session.caller.clientId, backend: backend.name, reason: 'grant_inactive' })
  }

  async #exchange (backend: BackendConfig, request: GatewayRequest, call: { method: 'POST' | 'GET' | 'DELETE', body?: string, rpcMethod: string, tool?: string | undefined, id: RequestId | null, listId: RequestId | null }): Promise<GatewayReply> {
    const { caller } = request
    const started = performance.now()
    const audit = (outcome: string, status: number): void => {
      this.#options.audit.event('gateway.call', {
        sub: caller.sub,
        client_id: caller.clientId,
        backend: backend.name,
        method: call.rpcMethod,
        ...(call.tool === undefined ? {} : { tool: call.tool }),
        outcome,
        status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10
      })
    }
    const outgoing = await this.#requestHeaders(backend, request, call)
    if (outgoing === undefined) {
      audit('session_refused', 404)
      this.#options.audit.event('gateway.session_refused', { sub: caller.sub, client_id: caller.clientId, backend: backend.name })
      // MCP transports: an unknown session is 404, and the client starts a new one. Nothing was forwarded.
      throw new McpHttpError(404, -32001, 'Session not found', call.id)
    }
    let answer: BackendAnswer
    try {
      answer = await callBackend({ method: call.method, url: backend.url, headers: outgoing.headers, ...(call.body === undefined ? {} : { body: call.body }), timeoutMs: backend.timeoutMs, maxBytes: backend.maxResponseBytes, ...(request.onClientGone === undefined ? {} : { onClientGone: request.onClientGone }), ...this.#connections() })
    } catch (error) {
      if (!(error instanceof GatewayFault)) throw error
      audit(error.outcome, error.status)
      throw new McpHttpError(error.status, INTERNAL_ERROR, `Backend ${backend.name}: ${error.message}`, call.id)
    }
    const relayed = await this.#responseHeaders(backend, caller, answer.headers, outgoing.session)
    if (answer.kind === 'empty') {
      audit('ok', answer.status)
      return { status: answer.status, headers: relayed }
    }
    if (answer.kind === 'json') {
      audit(answer.status < 400 ? 'ok' : 'backend_error', answer.status)
      // Nothing to filter: the backend's bytes as they came (checked to be JSON), not parsed and written again.
      const filtered = this.#filter(answer.body, call.listId, backend, caller)
      return { status: answer.status, headers: relayed, contentType: 'application/json', body: filtered === answer.body ? answer.raw : filtered }
    }
    // An event stream: what the backend has sent so far is relayed as one piece. When its whole stream is already
    // in (a POST answered by one event and the end, the usual case), the client gets it as one body with a length
    // instead of a chunked stream: the same bytes, one write. Otherwise the rest follows event by event.
    const { events, complete } = answer
    const format = (batch: SseEvent[]): string => {
      let out = ''
      for (const event of batch) out += formatSse(this.#filterEvent(event, call.listId, backend, caller))
      return out
    }
    const failed = (error: unknown): string => {
      if (!(error instanceof GatewayFault)) throw error
      audit(error.outcome, error.status)
      // The backend's stream had started with 200: the failure is told as the request's JSON-RPC error.
      return call.id === null ? '' : formatSse({ event: 'message', data: JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: INTERNAL_ERROR, message: `Backend ${backend.name}: ${error.message}` } }) })
    }
    let head = ''
    try {
      for (;;) {
        const next = await events.next()
        if (next.done === true) {
          audit('ok', 200)
          return { status: 200, headers: relayed, contentType: 'text/event-stream', body: head }
        }
        head += format(next.value)
        if (!complete()) break
      }
    } catch (error) {
      return { status: 200, headers: relayed, contentType: 'text/event-stream', body: head + failed(error) }
    }
    async function * relay (): AsyncGenerator<string> {
      let audited = false
      try {
        yield head
        for await (const batch of events) yield format(batch)
        audited = true
        audit('ok', 200)
      } catch (error) {
        audited = true
        const told = failed(error)
        if (told !== '') yield told
      } finally {
        // The client went away (the stream was destroyed): nothing more is read from the backend.
        if (!audited) audit('ok', 200)
        await events.return(undefined)
      }
    }
    return { status: 200, headers: relayed, contentType: 'text/event-stream', body: Readable.from(relay(), { objectMode: false }) }
  }

  #filter (body: unknown, listId: RequestId | null, backend: BackendConfig, caller: Caller): unknown {
    if (listId === null || body === null || typeof body !== 'object' || (body as { id?: unknown }).id !== listId || !('result' in body)) return body
    return { ...body, result: filterToolsResult((body as { result: unknown }).result, backend.tools, caller) }
  }

  #filterEvent (event: SseEvent, listId: RequestId | null, backend: BackendConfig, caller: Caller): SseEvent {
    if (listId === null || event.data === '') return event
    let parsed: unknown
    try { parsed = JSON.parse(event.data) } catch { return event }
    const filtered = this.#filter(parsed, listId, backend, caller)
    return filtered === parsed ? event : { ...event, data: JSON.stringify(filtered) }
  }

  /** What the backend receives: gatehouse's credential, the MCP-* headers, the backend's own session id (undefined: the presented session is not this grant's). */
  async #requestHeaders (backend: BackendConfig, request: GatewayRequest, call: { method: string }): Promise<{ headers: Record<string, string>, session?: PresentedSession } | undefined> {
    const out: Record<string, string> = { accept: header(request.headers, 'accept') ?? 'application/json, text/event-stream', 'user-agent': 'gatehouse-gateway' }
    if (call.method === 'POST') out['content-type'] = 'application/json'
    for (const [name, value] of Object.entries(request.headers)) {
      if (name.startsWith('mcp-') && name !== SESSION && typeof value === 'string') out[name] = value
    }
    const lastEventId = header(request.headers, 'last-event-id')
    if (lastEventId !== undefined) out['last-event-id'] = lastEventId
    const presented = header(request.headers, SESSION)
    let session: PresentedSession | undefined
    if (presented !== undefined) {
      const backendSessionId = await this.#options.sessions.resolve(backend.name, request.caller, presented)
      if (backendSessionId === undefined) return undefined
      out[SESSION] = backendSessionId
      session = { presented, backendSessionId }
    }
    Object.assign(out, await this.#credentials(backend, request.caller))
    return session === undefined ? { headers: out } : { headers: out, session }
  }

  async #credentials (backend: BackendConfig, caller: Caller): Promise<Record<string, string>> {
    if (backend.auth.type === 'jwt') return { authorization: `Bearer ${await this.#options.tokens.tokenFor(backend.url, caller)}` }
    const { secretArn, header: name } = backend.auth
    let secret = this.#secrets.get(secretArn)
    if (secret === undefined) {
      secret = this.#options.readSecret(secretArn)
      this.#secrets.set(secretArn, secret)
      // A failed read is not remembered: the next call reads again.
      secret.catch(() => this.#secrets.delete(secretArn))
    }
    let value: string
    try {
      value = await secret
    } catch {
      throw new McpHttpError(503, INTERNAL_ERROR, `Backend ${backend.name}: its credential cannot be read right now`)
    }
    return { [name]: name === 'authorization' ? `Bearer ${value}` : value }
  }

  /**
   * MCP-* headers of the answer; the backend's session id replaced by the grant-bound one. A backend that repeats
   * the session id the request carried (the SDK does on every answer) gets back the sealed id the client
   * presented, just opened for this grant and backend: no second sealing.
   */
  async #responseHeaders (backend: BackendConfig, caller: Caller, headers: IncomingHttpHeaders, presented: PresentedSession | undefined): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    for (const name in headers) {
      const value = headers[name]
      if (typeof value !== 'string') continue
      if (name === SESSION) out[SESSION] = presented?.backendSessionId === value ? presented.presented : await this.#options.sessions.bind(backend.name, caller, value)
      else if (name.startsWith('mcp-')) out[name] = value
    }
    return out
  }

  #connections (): { connections?: BackendConnections } {
    return this.#options.connections === undefined ? {} : { connections: this.#options.connections }
  }
}
