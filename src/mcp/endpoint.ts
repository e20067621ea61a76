// POST /mcp after the bearer guard: one function that takes the caller, the headers and the parsed body
// and returns the HTTP answer, for both eras on the same endpoint (2026-07-28 basic/versioning, "dual-era"):
//   - legacy (2025-03-26 … 2025-11-25, `initialize`): the SDK v1 Server behind RequestScopedTransport, as before;
//   - modern (2026-07-28, per-request `_meta`): served here without the SDK, each request by a direct call.
// Refusals are thrown (McpHttpError: JSON-RPC with status; InsufficientScopeError: the 403 step-up) and
// rendered by the app's one error handler. Order of checks: content type (415), Accept (406), era, then
// per era the JSON-RPC shape, the version and headers, the tool's scope (403), the method; in the legacy era
// the session (404) before the version.
// The legacy era issues a session id at initialize and checks it on every request that carries one
// (src/mcp/session.ts: no session table); a request without one is served as before. Its event-stream
// answers are resumable (src/mcp/resumable.ts) with GET + Last-Event-ID (`resume`). The 2026-07-28 era
// has no sessions and no GET: its Mcp-Session-Id is never looked at.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { PassThrough } from 'node:stream'
import type { CallToolResult, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js'
import type { AuditLog } from '../ports/audit.ts'
import type { Clock } from '../ports/clock.ts'
import { InsufficientScopeError } from '../oauth/errors.ts'
import { principalKey, type Caller } from './caller.ts'
import { INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, RpcError, SESSION_NOT_FOUND, TRANSPORT_ERROR } from './errors.ts'
import type { McpExchange, McpExtension } from './extension.ts'
import { McpHttpError, assertAcceptsJson, isJsonMediaType, isPlainObject, parseBody, protocolVersion, requestIdOf, sseMessage } from './http.ts'
import {
  META_SERVER_INFO, META_SUBSCRIPTION_ID, MODERN_VERSIONS, SUPPORTED_VERSIONS, checkParamHeaders, headerValue, isModernRequest, parseModernRequest, type ModernRequest
} from './modern.ts'
import { SERVER_INFO, TOOL_FORBIDDEN, authInfoFor, type GatehouseMcpServer } from './server.ts'
import { checkSession, issueSession, type McpSession } from './session.ts'
import type { ResumableStream, ResumableStreams } from './resumable.ts'

/** caching.mdx: how long a client may reuse server/discover and tools/list (per caller: "private"). */
export const LIST_TTL_MS = 300_000

export interface McpRequest {
  caller: Caller
  headers: IncomingHttpHeaders
  body: unknown
  /** Aborted when the client goes away (2026-07-28: closing the response is the cancellation). */
  signal?: AbortSignal
}

export interface McpAnswer {
  status: number
  contentType?: string
  headers?: Record<string, string>
  body?: unknown
}

export interface McpEndpointOptions {
  server: GatehouseMcpServer
  audit: AuditLog
  clock: Clock
  /** Where event-stream answers are kept for a resume; without it they are not resumable (no priming event). */
  streams?: ResumableStreams
  /**
   * Whether a handler may end its response stream before it answers (closeSSEStream), leaving the rest to a
   * resuming GET. Not on Lambda: the response ending returns the invocation and the sandbox freezes, so the
   * rest would never be produced; there the stream simply runs to the answer. Default true.
   */
  closeStreamsEarly?: boolean
  /** The scopes this resource knows; a step-up challenge keeps the caller's known scopes and adds the missing one. */
  scopes: readonly string[]
}

const NEVER = new AbortController().signal

/** How long a legacy-era request to the client (extensions only) waits for the client's answering POST. */
export const CLIENT_ANSWER_TIMEOUT_MS = 30_000

interface PendingClientRequest {
  owner: string
  settle: (response: { result?: unknown, error?: unknown }) => void
}

/** A JSON-RPC error object for what an extension threw: an RpcError as is, anything else shows nothing internal. */
function errorBody (error: unknown): { code: number, message: string, data?: unknown } {
  if (error instanceof RpcError) return { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) }
  return { code: INTERNAL_ERROR, message: 'Internal error' }
}

/**
 * Whether a GET /mcp is a resume this endpoint serves: it names a Last-Event-ID and is not of the 2026-07-28 era
 * (which has no GET stream and no sessions). Any other GET is 405 (src/routes/mcp.ts), its session id unread.
 */
export function isResume (headers: IncomingHttpHeaders): boolean {
  const version = headerValue(headers, 'mcp-protocol-version')
  return headerValue(headers, 'last-event-id') !== undefined && (version === undefined || !MODERN_VERSIONS.includes(version))
}

/** The HTTP status of a JSON-RPC error to a modern request (transports: 404 for an unknown method, 400 for the protocol's own refusals). */
function modernStatus (code: number): number {
  if (code === METHOD_NOT_FOUND) return 404
  return code <= -32020 && code >= -32099 ? 400 : 200
}

export class McpEndpoint {
  readonly #server: GatehouseMcpServer
  readonly #audit: AuditLog
  readonly #scopes: readonly string[]
  readonly #clock: Clock
  readonly #streams: ResumableStreams | undefined
  readonly #closeStreamsEarly: boolean
  /** Legacy-era requests sent to clients on a response stream, by their (unguessable) id. Extensions only. */
  readonly #clientRequests = new Map<string, PendingClientRequest>()

  constructor (options: McpEndpointOptions) {
    this.#server = options.server
    this.#audit = options.audit
    this.#scopes = options.scopes
    this.#clock = options.clock
    this.#streams = options.streams
    this.#closeStreamsEarly = options.closeStreamsEarly ?? true
  }

  async handle (request: McpRequest): Promise<McpAnswer> {
    const { headers, body } = request
    const header = headerValue(headers, 'mcp-protocol-version')
    const modern = isModernRequest(header, body)
    const id = requestIdOf(body)
    const transportCode = modern ? INVALID_REQUEST : TRANSPORT_ERROR
    if (!isJsonMediaType(headers['content-type'])) throw new McpHttpError(415, transportCode, 'Unsupported Media Type: Content-Type must be application/json', id)
    assertAcceptsJson(headers.accept, id, transportCode)
    if (modern) return await this.#modern(request)
    const initialize = isPlainObject(body) && body.method === 'initialize'
    // initialize starts a session: one it carries (it should carry none) is not looked at.
    const session = initialize ? undefined : this.#session(request, id)
    return await this.#legacy(request, legacyVersion(header, session, id), session)
  }

  /**
   * GET with Last-Event-ID (legacy era): the rest of a resumable stream this caller opened in this session.
   * Any other stream — malformed, unknown, expired, another user's or another session's — is one 400 that tells
   * nothing more (never 404: that would tell the client its session is gone); a stream already being resumed
   * 409, too many resumes by this caller 429. Checks: the session (404), then the version (400).
   */
  async resume (request: Omit<McpRequest, 'body'>): Promise<McpAnswer> {
    const lastEventId = headerValue(request.headers, 'last-event-id')
    if (!isResume(request.headers) || lastEventId === undefined || this.#streams === undefined) {
      throw new McpHttpError(405, TRANSPORT_ERROR, 'Method Not Allowed: no server-initiated stream; GET resumes a stream with Last-Event-ID')
    }
    const session = this.#session(request, null)
    legacyVersion(headerValue(request.headers, 'mcp-protocol-version'), session, null)
    const outcome = await this.#streams.resume({ caller: request.caller, session, lastEventId, signal: request.signal ?? NEVER })
    switch (outcome.kind) {
      case 'stream':
        return { status: 200, contentType: 'text/event-stream', headers: { 'x-accel-buffering': 'no' }, body: outcome.body }
      case 'unknown':
        this.#audit.event('mcp.stream_refused', { sub: request.caller.sub, client_id: request.caller.clientId })
        throw new McpHttpError(400, TRANSPORT_ERROR, 'Bad Request: no stream to resume from this Last-Event-ID')
      case 'busy':
        throw new McpHttpError(409, TRANSPORT_ERROR, 'Conflict: the stream is being resumed already')
      case 'too_many':
        throw new McpHttpError(429, TRANSPORT_ERROR, 'Too Many Requests: too many streams being resumed at once')
    }
  }

  /** The session a legacy request carries, checked; a session id not issued to this caller, or expired, is 404. */
  #session (request: Pick<McpRequest, 'caller' | 'headers'>, id: RequestId | null): McpSession | undefined {
    const presented = headerValue(request.headers, 'mcp-session-id')
    if (presented === undefined) return undefined
    const session = checkSession(request.caller, presented, this.#clock.now())
    if (session !== undefined) return session
    this.#audit.event('mcp.session_refused', { sub: request.caller.sub, client_id: request.caller.clientId })
    // Transports, "Session Management": a session the server does not know is 404; the client initializes again.
    throw new McpHttpError(404, SESSION_NOT_FOUND, 'Session not found', id)
  }

  // ── legacy era: the SDK v1 server, ids renumbered per exchange (DESIGN decision 9) ─────────────────

  async #legacy (request: McpRequest, version: string, session: McpSession | undefined): Promise<McpAnswer> {
    const { batch, requests, responses } = parseBody(request.body, version)
    for (const message of requests) this.#requireScope(request.caller, message)
    // A response reaches only a request this endpoint sent to the same caller; other responses and every
    // notification are acknowledged and dropped: a stateless server has nothing they could change, and
    // forwarding a cancellation by id would let one caller name another caller's request.
    for (const response of responses) this.#deliver(request.caller, response)
    if (requests.length === 0) return { status: 202 }
    if (!batch) {
      const message = requests[0]!
      if (this.#server.extensionServes(message.method, message.params)) return this.#legacyExtension(request.caller, message, version, session)
      if (message.method === 'tools/call' || message.method === 'tools/list') return await this.#legacyTools(request, message)
    }
    const transport = this.#server.transport
    const extra = { authInfo: authInfoFor(request.caller) }
    const answer = batch ? await transport.exchange(requests, extra) : await transport.exchangeOne(requests[0]!, extra)
    const started = !batch && requests[0]!.method === 'initialize' && 'result' in answer
    if (!started) return { status: 200, contentType: 'application/json', body: answer }
    const negotiated = String((answer.result as { protocolVersion?: unknown }).protocolVersion)
    const sessionId = issueSession(request.caller, negotiated, this.#clock.now())
    return { status: 200, contentType: 'application/json', headers: { 'mcp-session-id': sessionId }, body: answer }
  }

  /**
   * tools/list and tools/call, nearly every legacy request, answered here as the 2026 era answers them: the
   * same server methods, without the SDK's per-request schema parsing and id bookkeeping, which made the
   * legacy era allocate about twice what the 2026 one does under load (BENCHMARKS.md, session 10). The
   * request's own id is echoed: nothing here is shared between requests. Malformed tools/call params are
   * -32602 (the SDK answered them with -32603 and a validator dump).
   */
  async #legacyTools (request: McpRequest, message: JSONRPCRequest): Promise<McpAnswer> {
    let body: Record<string, unknown>
    try {
      if (message.method === 'tools/list') {
        body = { jsonrpc: '2.0', id: message.id, result: { tools: this.#server.listTools(request.caller) } }
      } else {
        const { name, args } = toolCallParams(message.params ?? {})
        body = { jsonrpc: '2.0', id: message.id, result: await this.#server.callTool(request.caller, name, args, request.signal ?? NEVER, TOOL_FORBIDDEN) }
      }
    } catch (error) {
      // callTool turns every failure into an RpcError that shows nothing internal; anything else is "Internal error".
      body = { jsonrpc: '2.0', id: message.id, error: errorBody(error) }
    }
    return { status: 200, contentType: 'application/json', body }
  }

  // ── modern era (2026-07-28): stateless, no SDK in between ─────────────────────────────────────────

  async #modern (request: McpRequest): Promise<McpAnswer> {
    const message = parseModernRequest(request.headers, request.body)
    if (message === undefined) return { status: 202 }
    if (message.method === 'tools/call' && typeof message.params.name === 'string') checkParamHeaders(request.headers, message, this.#server.paramHeaders(message.params.name))
    this.#requireScope(request.caller, message)
    try {
      if (this.#server.extensionServes(message.method, message.params)) return await this.#modernExtension(message, request)
      return await this.#dispatch(message, request)
    } catch (error) {
      if (!(error instanceof RpcError)) throw error
      return {
        status: modernStatus(error.code),
        contentType: 'application/json',
        body: { jsonrpc: '2.0', id: message.id, error: errorBody(error) }
      }
    }
  }

  async #dispatch (message: ModernRequest, request: McpRequest): Promise<McpAnswer> {
    const { id, params } = message
    switch (message.method) {
      case 'server/discover': {
        const instructions = this.#server.instructions
        return result(id, {
          supportedVersions: SUPPORTED_VERSIONS,
          capabilities: this.#server.capabilities,
          ...(instructions === undefined ? {} : { instructions }),
          ttlMs: LIST_TTL_MS,
          cacheScope: 'private'
        })
      }
      case 'tools/list':
        // One page: the list is short. tools/list depends on the caller's scopes and groups, hence "private".
        return result(id, { tools: this.#server.listTools(request.caller), ttlMs: LIST_TTL_MS, cacheScope: 'private' })
      case 'tools/call': {
        const { name, args } = toolCallParams(params)
        const outcome: CallToolResult = await this.#server.callTool(request.caller, name, args, request.signal ?? NEVER, INVALID_PARAMS)
        return result(id, outcome)
      }
      case 'subscriptions/listen':
        return listen(id)
      default:
        // Removed methods (initialize, ping, logging/setLevel, resources/subscribe, …) and unknown ones alike.
        throw new RpcError(METHOD_NOT_FOUND, 'Method not found')
    }
  }

  // ── an extension's methods and tools (tests only: src/mcp/extension.ts) ────────────────────────────

  /**
   * Legacy era: always a text/event-stream answer, written as the handler goes, so that its notifications
   * and its requests to the client reach the client while it runs; the response ends the stream. With an
   * event store and a client of 2025-11-25 or later (older ones cannot take the priming event's empty data)
   * the stream is resumable: the client going away, or the handler closing the stream, does not end the
   * request, and the rest is fetched with GET + Last-Event-ID. Otherwise the client going away ends it.
   */
  #legacyExtension (caller: Caller, message: JSONRPCRequest, version: string, session: McpSession | undefined): McpAnswer {
    const extension = this.#server.extension as McpExtension
    const stream = new PassThrough()
    const controller = new AbortController()
    // `version` is validated: one of the supported dates, which order as strings.
    const resumable: ResumableStream | undefined = this.#streams !== undefined && version >= '2025-11-25'
      ? this.#streams.open(stream, { caller, session, requestId: message.id, onOverflow: () => { controller.abort() } })
      : undefined
    if (resumable === undefined) stream.once('close', () => controller.abort())
    const write = resumable !== undefined
      ? (value: unknown): void => { resumable.send(value) }
      : (value: unknown): void => { if (!stream.writableEnded) stream.write(sseMessage(value)) }
    const exchange: McpExchange = {
      era: 'legacy',
      caller,
      params: message.params ?? {},
      signal: controller.signal,
      notify: (method, params) => { write({ jsonrpc: '2.0', method, params }) },
      request: async (method, params) => await this.#requestClient(caller, write, method, params, controller.signal),
      ...(resumable === undefined || !this.#closeStreamsEarly ? {} : { closeSSEStream: () => { resumable.close() } })
    }
    const answered = (body: Record<string, unknown>): void => {
      const response = { jsonrpc: '2.0', id: message.id, ...body }
      if (resumable === undefined) {
        write(response)
        stream.end()
      } else {
        resumable.send(response, true)
        resumable.close()
      }
      controller.abort()
    }
    extension.handle(message.method, exchange).then(result => { answered({ result }) }, (error: unknown) => { answered({ error: errorBody(error) }) })
    return { status: 200, contentType: 'text/event-stream', headers: { 'x-accel-buffering': 'no' }, body: stream }
  }

  /** Sends a request to the client on a response stream; the client answers in a later POST as the same caller. */
  async #requestClient (caller: Caller, write: (value: unknown) => void, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    if (signal.aborted) throw new RpcError(INTERNAL_ERROR, 'the request has ended')
    const id = `gatehouse-${randomUUID()}`
    return await new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', ended)
        this.#clientRequests.delete(id)
      }
      const timer = setTimeout(() => { finish(); reject(new RpcError(INTERNAL_ERROR, `the client did not answer ${method}`)) }, CLIENT_ANSWER_TIMEOUT_MS)
      const ended = (): void => { finish(); reject(new RpcError(INTERNAL_ERROR, 'the request has ended')) }
      signal.addEventListener('abort', ended, { once: true })
      this.#clientRequests.set(id, {
        owner: principalKey(caller),
        settle: response => {
          finish()
          const { error, result } = response
          if (error !== undefined) reject(new RpcError(typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : INTERNAL_ERROR, String((error as { message?: unknown }).message ?? 'error')))
          else if (result !== null && typeof result === 'object' && !Array.isArray(result)) resolve(result as Record<string, unknown>)
          else reject(new RpcError(INVALID_PARAMS, `the client's answer to ${method} is not an object`))
        }
      })
      write({ jsonrpc: '2.0', id, method, params })
    })
  }

  /** A client's answer to one of those requests: delivered only if this caller was asked. */
  #deliver (caller: Caller, response: { id: RequestId, result?: unknown, error?: unknown }): void {
    const pending = typeof response.id === 'string' ? this.#clientRequests.get(response.id) : undefined
    if (pending === undefined || pending.owner !== principalKey(caller)) return
    pending.settle(response)
  }

  /**
   * Modern era: no requests to the client (a handler returns an input-required result instead); its
   * notifications, if any, precede the response on a text/event-stream answer.
   */
  async #modernExtension (message: ModernRequest, request: McpRequest): Promise<McpAnswer> {
    const extension = this.#server.extension as McpExtension
    const events: unknown[] = []
    const exchange: McpExchange = {
      era: 'modern',
      caller: request.caller,
      params: message.params,
      signal: request.signal ?? NEVER,
      notify: (method, params) => { events.push({ jsonrpc: '2.0', method, params }) },
      request: async method => { throw new RpcError(INTERNAL_ERROR, `${method}: this protocol version has no requests to the client`) }
    }
    let value: Record<string, unknown>
    try {
      value = await extension.handle(message.method, exchange)
    } catch (error) {
      throw error instanceof RpcError ? error : new RpcError(INTERNAL_ERROR, 'Internal error')
    }
    const meta = value._meta as Record<string, unknown> | undefined
    const body = { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete', ...value, _meta: { ...meta, [META_SERVER_INFO]: SERVER_INFO } } }
    if (events.length === 0) return { status: 200, contentType: 'application/json', body }
    return { status: 200, contentType: 'text/event-stream', headers: { 'x-accel-buffering': 'no' }, body: [...events, body].map(event => sseMessage(event)).join('') }
  }

  /** The HTTP 403 insufficient_scope that lets a client step up (both eras; authorization is the same). */
  #requireScope (caller: Caller, message: Pick<JSONRPCRequest, 'method' | 'params'>): void {
    const scope = this.#server.missingScope(caller, message)
    if (scope === undefined) return
    this.#audit.event('tool.denied', { sub: caller.sub, client_id: caller.clientId, tool: (message.params as { name?: string }).name, reason: 'scope', required_scope: scope })
    // The challenge names the scopes to ask for: what the token already has plus what is missing, so a
    // client that re-authorizes with exactly these (MCP "Scope challenge handling") keeps its other tools.
    const wanted = [...new Set([...caller.scopes.filter(s => this.#scopes.includes(s)), scope])].join(' ')
    throw new InsufficientScopeError(wanted, `this tool needs the ${scope} scope`)
  }
}

/**
 * The one protocol version a legacy request is served under, validated (400 for one not supported): the version
 * its session negotiated, when it carries one — it decides what the client can take (a priming event's empty
 * data), and a client may send a stale header (the conformance suite's polling scenario sends 2025-03-26) —
 * else MCP-Protocol-Version, else 2025-03-26 (transports, "Protocol Version Header"). The header is checked
 * either way; a session's version is checked because anyone can write a session id (src/mcp/session.ts).
 */
function legacyVersion (header: string | undefined, session: McpSession | undefined, id: RequestId | null): string {
  const fromHeader = protocolVersion(header, id)
  return session === undefined ? fromHeader : protocolVersion(session.version, id)
}

/** tools/call's params: a tool name and, if present, an arguments object. */
function toolCallParams (params: Record<string, unknown>): { name: string, args: Record<string, unknown> } {
  const { name, arguments: args } = params
  if (typeof name !== 'string') throw new RpcError(INVALID_PARAMS, 'Invalid params: tools/call needs a tool name')
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) throw new RpcError(INVALID_PARAMS, 'Invalid params: arguments must be an object')
  return { name, args: (args ?? {}) as Record<string, unknown> }
}

/** A complete result (basic/index "ResultType"), identifying the server in its `_meta`. */
function result (id: RequestId, value: { _meta?: Record<string, unknown>, [key: string]: unknown }): McpAnswer {
  return {
    status: 200,
    contentType: 'application/json',
    body: { jsonrpc: '2.0', id, result: { ...value, resultType: 'complete', _meta: { ...value._meta, [META_SERVER_INFO]: SERVER_INFO } } }
  }
}

/**
 * subscriptions/listen (basic/patterns/subscriptions): the acknowledgement first, with the subset honoured
 * (none: gatehouse's tools never change while it runs), then the graceful closure, a complete result.
 */
function listen (id: RequestId): McpAnswer {
  const tag = { [META_SUBSCRIPTION_ID]: id }
  const acknowledged = { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: tag, notifications: {} } }
  const closed = { jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: { ...tag, [META_SERVER_INFO]: SERVER_INFO } } }
  return {
    status: 200,
    contentType: 'text/event-stream',
    headers: { 'x-accel-buffering': 'no' },
    body: [acknowledged, closed].map(event => sseMessage(event)).join('')
  }
}
