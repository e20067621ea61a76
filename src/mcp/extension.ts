// An addition to the MCP endpoint beyond gatehouse's own tools: more capabilities, more tools and more
// methods, served in both eras. The production app never passes one (src/app.ts: only a caller of the app
// plugin can, through AppOptions.mcpExtension); the conformance tests pass the suite's reference fixtures
// (test/support/conformance-fixtures.ts), which must never ship. Everything here is the plumbing such an
// addition needs and gatehouse's own tools do not use: notifications on the request's response stream, and in
// the legacy era requests to the client on that stream (the 2026-07-28 revision has none: a handler returns
// an input-required result instead, and the client calls again).
import type { Tool as ToolDescription } from '@modelcontextprotocol/sdk/types.js'
import type { Caller } from './caller.ts'

export type McpEra = 'legacy' | 'modern'

/** One request being served by an extension. */
export interface McpExchange {
  era: McpEra
  caller: Caller
  /** The request's params as sent (`_meta`, `inputResponses`, `requestState` included). */
  params: Record<string, unknown>
  /** Aborted when the request ends or is given up. */
  signal: AbortSignal
  /** A notification on this request's response stream (progress, log messages). */
  notify: (method: string, params: Record<string, unknown>) => void
  /**
   * Legacy era only: a request to the client on this request's response stream, answered by the client in
   * a later POST (as the same caller) — sampling, elicitation. Rejects in the 2026-07-28 era, on timeout,
   * or when the client answers with an error.
   */
  request: (method: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>
  /**
   * Legacy era, on a resumable stream only (an event store, protocol 2025-11-25 or later), never on Lambda: ends the HTTP
   * response now, without ending the request; what the handler sends after it is stored, and the client
   * fetches it with GET + Last-Event-ID (polling, SEP-1699; the SDK v1 transport's extra of the same name).
   */
  closeSSEStream?: () => void
}

export interface McpExtension {
  /** Merged into the capabilities both eras declare. */
  capabilities: Record<string, unknown>
  /** Listed after gatehouse's tools, to every caller; a tools/call naming one goes to `handle`. */
  tools: readonly ToolDescription[]
  /** Other methods it serves (not tools/list, which gatehouse owns); everything else stays gatehouse's. */
  methods: readonly string[]
  /**
   * Serves one request: the result (an object), or a thrown RpcError. In the 2026-07-28 era a result
   * without `resultType` is complete; `resultType: "input_required"` asks the client to call again.
   */
  handle: (method: string, exchange: McpExchange) => Promise<Record<string, unknown>>
}
