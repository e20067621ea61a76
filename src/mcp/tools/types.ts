// The shape of an MCP tool: a module with a name, a TypeBox input schema (which is JSON Schema, so it is
// what tools/list advertises), the scope and groups it requires, and a handler given the caller's identity.
import type { Static, TObject } from 'typebox'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Caller } from '../caller.ts'
import type { DatasetStore } from '../../ports/dataset.ts'
import type { Cipher } from '../../ports/cipher.ts'
import type { Clock } from '../../ports/clock.ts'
import type { GrantStore } from '../../ports/store.ts'

/** Everything a tool may use besides its input and caller; built once when the app starts. */
export interface ToolDeps {
  dataset: DatasetStore
  grants: Pick<GrantStore, 'findGrant'>
  cipher: Cipher
  clock: Clock
  /** call_downstream's target; the tool is not offered when unset. */
  downstreamUrl: string | undefined
  downstreamTimeoutMs: number
  fetch: typeof globalThis.fetch
}

export interface ToolContext {
  caller: Caller
  deps: ToolDeps
  /** Aborted when the client cancels or the request ends. */
  signal: AbortSignal
}

export interface ToolAnnotations {
  title?: string
  readOnlyHint?: boolean
  destructiveHint?: boolean
  idempotentHint?: boolean
  openWorldHint?: boolean
}

export interface Tool<S extends TObject = TObject> {
  name: string
  title: string
  description: string
  inputSchema: S
  /** The OAuth scope a token must carry; missing it is HTTP 403 insufficient_scope (step-up). */
  scope: 'mcp:read' | 'mcp:write'
  /** Any of these groups; empty = every signed-in user. Missing them is a JSON-RPC error, audited. */
  groups: readonly string[]
  annotations?: ToolAnnotations
  /** Offered only when this holds (e.g. a configured downstream API). */
  available?: (deps: ToolDeps) => boolean
  handler: (input: Static<S>, context: ToolContext) => Promise<CallToolResult>
}

/** A tool result carrying JSON both as structured content and as text (for clients without structured support). */
export function jsonResult (value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value }
}

/** A tool execution error (MCP: reported in the result, so the model can see and correct it). */
export function toolError (message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true }
}

/** Identity helper so each tool file gets its handler's input typed from its schema. */
export const defineTool = <S extends TObject>(tool: Tool<S>): Tool<S> => tool
