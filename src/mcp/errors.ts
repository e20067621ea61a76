// JSON-RPC error codes of the MCP endpoint, in both eras. 2026-07-28 ("Error codes") partitions the
// server-error range: -32000…-32019 is legacy (kept for the 2025 revisions' clients, never sent to a
// 2026-07-28 request), -32020…-32099 belongs to the specification.

export const PARSE_ERROR = -32700
export const INVALID_REQUEST = -32600
export const METHOD_NOT_FOUND = -32601
export const INVALID_PARAMS = -32602
export const INTERNAL_ERROR = -32603

/** Legacy era only: the SDK's transport code for HTTP-level refusals. */
export const TRANSPORT_ERROR = -32000
/** Legacy era only: the session named is unknown, expired or another caller's (with HTTP 404: the client starts a new one). */
export const SESSION_NOT_FOUND = -32001
/** Legacy era only: a tool the caller's groups do not allow (2026-07-28 answers INVALID_PARAMS). */
export const TOOL_FORBIDDEN = -32003

/** 2026-07-28: HTTP headers disagree with the body, or a required header is missing or malformed. */
export const HEADER_MISMATCH = -32020
/** 2026-07-28: the request needs a client capability its `_meta` does not declare. */
export const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
/** 2026-07-28: the server does not implement the requested protocol version. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022

/**
 * A JSON-RPC error raised by a handler. Its message is what the client sees, as is: the SDK's McpError
 * prefixes "MCP error <code>: " to its message, and clients add that prefix again when they show it.
 */
export class RpcError extends Error {
  readonly code: number
  readonly data: unknown
  constructor (code: number, message: string, data?: unknown) {
    super(message)
    this.name = 'RpcError'
    this.code = code
    this.data = data
  }
}
