// The MCP server: one long-lived SDK `Server` per app, behind RequestScopedTransport. It holds no
// per-caller state: the caller arrives with every request (extra.authInfo), tools/list is filtered for
// that caller, and initialize answers without remembering the client (there is no session to remember it in).
// Nothing depends on a prior initialize, so requests that carry their protocol version themselves (the
// stateless 2026 revision) need only the version added to the supported list.
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js'
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js'
import {
  CallToolRequestSchema, InitializeRequestSchema, LATEST_PROTOCOL_VERSION, ListToolsRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS, type CallToolResult, type JSONRPCRequest, type Tool as ToolDescription
} from '@modelcontextprotocol/sdk/types.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { Compile } from 'typebox/compile'
import type { AuditLog } from '../ports/audit.ts'
import { StoreUnavailableError } from '../ports/store.ts'
import { hasScope, inAnyGroup, isAllowed, type Caller } from './caller.ts'
import { toolError, type Tool, type ToolDeps } from './tools/types.ts'
import { RequestScopedTransport } from './transport.ts'
import type { McpExtension } from './extension.ts'
import { paramHeadersOf, type ParamHeader } from './param-headers.ts'
import { INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, RpcError, TOOL_FORBIDDEN } from './errors.ts'

export { TOOL_FORBIDDEN } from './errors.ts'

export const SERVER_INFO = { name: 'gatehouse', version: '0.1.0' } as const

interface Logger {
  error: (fields: Record<string, unknown>, message: string) => void
}

export interface McpServerOptions {
  tools: readonly Tool[]
  deps: ToolDeps
  audit: AuditLog
  log: Logger
  instructions?: string
  /** More capabilities, tools and methods (tests only: src/mcp/extension.ts). */
  extension?: McpExtension
}

interface RegisteredTool {
  tool: Tool
  description: ToolDescription
  check: (value: unknown) => boolean
  errors: (value: unknown) => string[]
}

/** The caller the transport attached to this request; absent only if something bypassed the bearer guard. */
export function callerOf (authInfo: AuthInfo | undefined): Caller {
  const caller = authInfo?.extra?.caller as Caller | undefined
  if (caller === undefined) throw new RpcError(INVALID_REQUEST, 'unauthenticated')
  return caller
}

/** What the bearer guard attaches: no MCP token (tools never need it, so none can pass it on). */
export function authInfoFor (caller: Caller): AuthInfo {
  return { token: '', clientId: caller.clientId, scopes: caller.scopes, expiresAt: caller.expiresAt, extra: { caller } }
}

/**
 * The SDK's default validator (an Ajv instance with formats, built in Server's constructor) is only used
 * to check elicitation results, which this server never requests: build it on first use, not at start.
 */
function lazySchemaValidator (): jsonSchemaValidator {
  let inner: AjvJsonSchemaValidator | undefined
  return { getValidator: schema => (inner ??= new AjvJsonSchemaValidator()).getValidator(schema) }
}

export class GatehouseMcpServer {
  readonly server: Server
  readonly transport = new RequestScopedTransport()
  readonly #tools = new Map<string, RegisteredTool>()
  /** Each tool's `x-mcp-header` parameters (only tools that have some), read and checked at start. */
  readonly #paramHeaders = new Map<string, readonly ParamHeader[]>()
  readonly #options: McpServerOptions

  constructor (options: McpServerOptions) {
    this.#options = options
    for (const tool of options.tools) {
      if (tool.available !== undefined && !tool.available(options.deps)) continue
      // Compiled on the tool's first call, not at start (cold start pays only for the tools it uses).
      let compiled: ReturnType<typeof Compile<typeof tool.inputSchema>> | undefined
      const validator = (): ReturnType<typeof Compile<typeof tool.inputSchema>> => (compiled ??= Compile(tool.inputSchema))
      this.#tools.set(tool.name, {
        tool,
        // TypeBox schemas are JSON Schema already; the round trip drops TypeBox's symbol keys.
        description: {
          name: tool.name,
          title: tool.title,
          description: tool.description,
          inputSchema: JSON.parse(JSON.stringify(tool.inputSchema)) as ToolDescription['inputSchema'],
          ...(tool.annotations === undefined ? {} : { annotations: tool.annotations })
        },
        check: value => validator().Check(value),
        errors: value => [...validator().Errors(value)].slice(0, 5).map(e => `${e.instancePath === '' ? 'arguments' : e.instancePath} ${e.message}`)
      })
    }
    for (const { name, inputSchema } of this.#listAllTools()) {
      const annotated = paramHeadersOf(name, inputSchema)
      if (annotated.length > 0) this.#paramHeaders.set(name, annotated)
    }
    const capabilities = this.capabilities
    this.server = new Server(SERVER_INFO, {
      capabilities,
      jsonSchemaValidator: lazySchemaValidator(),
      ...(options.instructions === undefined ? {} : { instructions: options.instructions })
    })
    this.server.setRequestHandler(InitializeRequestSchema, request => ({
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(request.params.protocolVersion) ? request.params.protocolVersion : LATEST_PROTOCOL_VERSION,
      capabilities,
      serverInfo: SERVER_INFO,
      ...(options.instructions === undefined ? {} : { instructions: options.instructions })
    }))
    this.server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => ({ tools: this.listTools(callerOf(extra.authInfo)) }))
    this.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => await this.callTool(callerOf(extra.authInfo), request.params.name, request.params.arguments ?? {}, extra.signal, TOOL_FORBIDDEN))
  }

  /** The capabilities both eras declare. */
  get capabilities (): { tools: { listChanged: false }, [capability: string]: unknown } {
    const extension = this.#options.extension
    return extension === undefined ? { tools: { listChanged: false } } : { ...extension.capabilities, tools: { listChanged: false } }
  }

  get extension (): McpExtension | undefined { return this.#options.extension }

  /** Whether a request goes to the extension: a method it serves, or a tools/call of one of its tools. */
  extensionServes (method: string, params: Record<string, unknown> | undefined): boolean {
    const extension = this.#options.extension
    if (extension === undefined) return false
    if (method === 'tools/call') return !this.#tools.has(params?.name as string) && extension.tools.some(t => t.name === params?.name)
    return method !== 'tools/list' && extension.methods.includes(method)
  }

  get instructions (): string | undefined { return this.#options.instructions }

  /** The tools this caller's scopes and groups allow, in registration order (the same order on every request). */
  listTools (caller: Caller): ToolDescription[] {
    return this.#listAllTools(registered => isAllowed(caller, registered.tool))
  }

  /** gatehouse's tools that pass `allowed` (every one by default), then the extension's. */
  #listAllTools (allowed: (registered: RegisteredTool) => boolean = () => true): ToolDescription[] {
    const tools: ToolDescription[] = []
    for (const registered of this.#tools.values()) if (allowed(registered)) tools.push(registered.description)
    const extension = this.#options.extension
    if (extension !== undefined) for (const tool of extension.tools) if (!this.#tools.has(tool.name)) tools.push(tool)
    return tools
  }

  /** The parameters a tools/call of this tool must mirror into Mcp-Param-* headers (2026-07-28). */
  paramHeaders (name: string): readonly ParamHeader[] {
    return this.#paramHeaders.get(name) ?? []
  }

  async connect (): Promise<void> { await this.server.connect(this.transport) }
  async close (): Promise<void> { await this.server.close() }

  /** The tool a tools/call names, if it exists here. */
  tool (name: unknown): Tool | undefined {
    return typeof name === 'string' ? this.#tools.get(name)?.tool : undefined
  }

  /**
   * The scope a message needs that the caller lacks (a tools/call of a tool it has no scope for), for the
   * HTTP-level 403 insufficient_scope that lets a client step up. Unknown tools are left to the server.
   */
  missingScope (caller: Caller, request: Pick<JSONRPCRequest, 'method' | 'params'>): string | undefined {
    if (request.method !== 'tools/call') return undefined
    const tool = this.tool((request.params as { name?: unknown } | undefined)?.name)
    return tool !== undefined && !hasScope(caller, tool.scope) ? tool.scope : undefined
  }

  /**
   * Runs a tool for this caller. Protocol failures are RpcErrors with plain messages: unknown tool -32602,
   * a tool the caller may not use `forbiddenCode` (the legacy era's -32003, or -32602 in 2026-07-28, which
   * leaves -32000…-32019 to the legacy era), an unexpected failure -32603 that shows nothing internal.
   */
  async callTool (caller: Caller, name: string, args: Record<string, unknown>, signal: AbortSignal, forbiddenCode: number): Promise<CallToolResult> {
    const registered = this.#tools.get(name)
    if (registered === undefined) throw new RpcError(INVALID_PARAMS, `Unknown tool: ${name}`)
    const { tool } = registered
    // The route refuses these with HTTP 403 first; this keeps the server safe on its own.
    if (!hasScope(caller, tool.scope)) throw new RpcError(forbiddenCode, `tool ${name} needs the ${tool.scope} scope`)
    if (!inAnyGroup(caller, tool.groups)) {
      this.#options.audit.event('tool.denied', { sub: caller.sub, client_id: caller.clientId, tool: name, reason: 'groups', required_groups: tool.groups })
      throw new RpcError(forbiddenCode, `tool ${name} is not available to your groups`)
    }
    // MCP 2025-11-25: input validation failures are tool execution errors, so the model can correct itself.
    if (!registered.check(args)) return toolError(`invalid arguments: ${registered.errors(args).join('; ')}`)
    try {
      return await tool.handler(args as never, { caller, deps: this.#options.deps, signal })
    } catch (error) {
      if (error instanceof StoreUnavailableError) return toolError('the data store is temporarily unavailable, try again shortly')
      // Never hand internal messages (store, crypto) to the client.
      this.#options.log.error({ err: error, tool: name }, 'tool failed')
      throw new RpcError(INTERNAL_ERROR, `tool ${name} failed`)
    }
  }
}
