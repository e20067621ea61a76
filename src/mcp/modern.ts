// MCP 2026-07-28 ("modern", stateless) on Streamable HTTP: which era a POST speaks, and what a modern
// request must look like before it is served (basic/versioning, basic/index "_meta", transports/streamable-http
// "Request Metadata" and "Server Validation"). Pure functions; src/mcp/endpoint.ts applies them.
import type { IncomingHttpHeaders } from 'node:http'
import { SUPPORTED_PROTOCOL_VERSIONS as LEGACY_VERSIONS, type RequestId } from '@modelcontextprotocol/sdk/types.js'
import { HEADER_MISMATCH, INVALID_PARAMS, INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION } from './errors.ts'
import { McpHttpError, isPlainObject, isRequestId } from './http.ts'
import { paramHeaderMismatch, type ParamHeader } from './param-headers.ts'

/** Revisions served statelessly, with per-request `_meta`. */
export const MODERN_VERSIONS: readonly string[] = ['2026-07-28']
/** Everything this endpoint serves, newest first: what server/discover and -32022 list. */
export const SUPPORTED_VERSIONS: readonly string[] = [...MODERN_VERSIONS, ...LEGACY_VERSIONS]

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion'
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities'
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo'
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId'

/** Methods whose target is mirrored into Mcp-Name, and the params field it comes from. */
const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' }


/** A header's single value (Node joins repeated custom headers with ", "; a repeated one is taken as sent). */
export function headerValue (headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function metaVersion (body: unknown): unknown {
  if (!isPlainObject(body)) return undefined
  const params = body.params
  if (!isPlainObject(params) || !isPlainObject(params._meta)) return undefined
  return params._meta[META_PROTOCOL_VERSION]
}

/**
 * versioning.mdx, "a dual-era server selects its behavior from how the client opens": a request with a
 * modern MCP-Protocol-Version or a modern `_meta` claim is served statelessly; so is one naming a version
 * this server does not know, so that it gets the modern UnsupportedProtocolVersionError with the list to
 * retry from. Everything else (no header, a 2025 version, `initialize`) keeps the legacy behaviour.
 */
export function isModernRequest (version: string | undefined, body: unknown): boolean {
  if (version !== undefined && !LEGACY_VERSIONS.includes(version)) return true
  const claimed = metaVersion(body)
  return claimed !== undefined && !(typeof claimed === 'string' && LEGACY_VERSIONS.includes(claimed) && claimed === version)
}

export interface ModernRequest {
  id: RequestId
  method: string
  params: Record<string, unknown>
  version: string
}

/** `=?base64?…?=` (transports, "Value Encoding"): decoded before comparing; plain values as sent. */
export function decodeHeaderValue (value: string): string | undefined {
  // RFC 9110 field values: visible ASCII, space and tab only.
  if (!/^[\x20-\x7e\t]*$/.test(value)) return undefined
  if (!value.startsWith('=?base64?') || !value.endsWith('?=') || value.length < 11) return value
  const encoded = value.slice(9, -2)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined
  const bytes = Buffer.from(encoded, 'base64')
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined
}

function mismatch (id: RequestId | null, message: string): McpHttpError {
  return new McpHttpError(400, HEADER_MISMATCH, `Header mismatch: ${message}`, id)
}

const shown = (value: unknown): string => JSON.stringify(value)?.slice(0, 80) ?? String(value)

/**
 * Checks one modern POST body against its headers. Returns the request to serve, or undefined for a
 * notification (accepted and dropped: this revision defines none a stateless tools server acts on).
 * Throws McpHttpError with the request's id: -32600 not a request, -32020 headers disagree with the body,
 * -32022 unsupported version (data: supported, requested), -32602 required `_meta` keys missing.
 */
export function parseModernRequest (headers: IncomingHttpHeaders, body: unknown): ModernRequest | undefined {
  if (!isPlainObject(body)) throw new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: the body must be one JSON-RPC request (this protocol version has no batches)')
  const rawId = body.id
  const id = isRequestId(rawId) ? rawId : null
  if (body.jsonrpc !== '2.0' || typeof body.method !== 'string' || ('id' in body && id === null)) {
    throw new McpHttpError(400, INVALID_REQUEST, 'result' in body || 'error' in body
      ? 'Invalid Request: clients do not send responses in this protocol version'
      : 'Invalid Request: not a JSON-RPC 2.0 request', id)
  }
  const params = body.params ?? {}
  if (!isPlainObject(params)) throw new McpHttpError(400, INVALID_REQUEST, 'Invalid Request: params must be an object', id)
  const meta = params._meta

  const header = headerValue(headers, 'mcp-protocol-version')
  const claimed = isPlainObject(meta) ? meta[META_PROTOCOL_VERSION] : undefined
  if (claimed !== undefined && claimed !== header) {
    throw mismatch(id, header === undefined
      ? 'the MCP-Protocol-Version header is required'
      : `MCP-Protocol-Version ${shown(header)} does not match _meta ${META_PROTOCOL_VERSION} ${shown(claimed)}`)
  }
  const requested = claimed ?? header
  if (typeof requested !== 'string' || !MODERN_VERSIONS.includes(requested)) {
    throw new McpHttpError(400, UNSUPPORTED_PROTOCOL_VERSION, 'Unsupported protocol version', id, { supported: SUPPORTED_VERSIONS, requested })
  }
  if (id === null) return undefined

  const method = body.method
  const methodHeader = headerValue(headers, 'mcp-method')
  if (methodHeader !== method) {
    throw mismatch(id, methodHeader === undefined ? 'the Mcp-Method header is required' : `Mcp-Method ${shown(methodHeader)} does not match the method ${shown(method)}`)
  }
  const source = NAME_SOURCE[method]
  const target = source === undefined ? undefined : params[source]
  if (typeof target === 'string') {
    const nameHeader = headerValue(headers, 'mcp-name')
    if (nameHeader === undefined) throw mismatch(id, 'the Mcp-Name header is required')
    const name = decodeHeaderValue(nameHeader)
    if (name === undefined) throw mismatch(id, 'the Mcp-Name header has invalid characters or encoding')
    if (name !== target) throw mismatch(id, `Mcp-Name ${shown(name)} does not match params.${source} ${shown(target)}`)
  }

  // basic/index, "Per-request protocol fields": protocolVersion and clientCapabilities are required.
  if (!isPlainObject(meta) || claimed === undefined || !isPlainObject(meta[META_CLIENT_CAPABILITIES])) {
    throw new McpHttpError(400, INVALID_PARAMS, `Invalid params: _meta must carry ${META_PROTOCOL_VERSION} and ${META_CLIENT_CAPABILITIES}`, id)
  }
  return { id, method, params, version: requested }
}

/** A tools/call's Mcp-Param-* headers against its arguments (custom headers, SEP-2243): -32020 when they disagree. */
export function checkParamHeaders (headers: IncomingHttpHeaders, message: ModernRequest, annotated: readonly ParamHeader[]): void {
  if (annotated.length === 0) return
  const args = message.params.arguments
  const why = paramHeaderMismatch(annotated, name => headerValue(headers, name), isPlainObject(args) ? args : {}, decodeHeaderValue)
  if (why !== undefined) throw mismatch(message.id, why)
}
