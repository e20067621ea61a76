// Tool parameters mirrored into HTTP headers (MCP 2026-07-28, transports/streamable-http "Custom Headers
// from Tool Parameters", SEP-2243). A tool's inputSchema may mark a property `x-mcp-header: "<Name>"`; a
// client then sends its value as `Mcp-Param-<Name>`, so load balancers and gateways can route on it without
// reading the body. A server that reads the body must check the two agree (400, -32020 HeaderMismatch):
// otherwise something in front could act on a header while the tool runs on a different body value.
// Pure functions; src/mcp/server.ts reads the annotations when a tool is registered, src/mcp/endpoint.ts checks
// each 2026 tools/call.
import { isPlainObject } from './http.ts'

/** One annotated parameter: where its value sits in `arguments`, the header that mirrors it, and its type. */
export interface ParamHeader {
  path: readonly string[]
  /** Lower case, as Node spells received header names. */
  header: string
  type: 'string' | 'integer' | 'boolean'
}

/** RFC 9110 §5.1 field-name token (`1*tchar`). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const ANNOTATION = 'x-mcp-header'
/** Keywords below which an annotation is not "statically reachable" (only chains of `properties` are; a
 * `$ref`'s target sits under `$defs`/`definitions`, so an annotation reached through one is refused there). */
const NOT_REACHABLE = ['items', 'prefixItems', 'additionalProperties', 'patternProperties', 'oneOf', 'anyOf', 'allOf', 'not', 'if', 'then', 'else', '$defs', 'definitions', 'dependentSchemas', 'contains']

function containsAnnotation (schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(containsAnnotation)
  if (!isPlainObject(schema)) return false
  return ANNOTATION in schema || Object.values(schema).some(containsAnnotation)
}

/**
 * The annotated parameters of one tool's inputSchema. Throws, naming the tool, when an annotation breaks a
 * rule of "Schema Extension" (a client would drop such a tool from tools/list, so the server must not
 * publish it): a name that is not a header token or repeats another case-insensitively, a type other than
 * string, integer or boolean, or an annotation not reachable through `properties` alone.
 */
export function paramHeadersOf (toolName: string, inputSchema: unknown): ParamHeader[] {
  const found: ParamHeader[] = []
  const invalid = (why: string): Error => new Error(`tool ${toolName}: invalid ${ANNOTATION} annotation: ${why}`)
  const walk = (schema: Record<string, unknown>, path: string[]): void => {
    for (const keyword of NOT_REACHABLE) {
      if (containsAnnotation(schema[keyword])) throw invalid(`${[...path, keyword].join('.')} is not reachable through properties alone`)
    }
    const properties = schema.properties
    if (!isPlainObject(properties)) return
    for (const [key, property] of Object.entries(properties)) {
      if (!isPlainObject(property)) continue
      const name = property[ANNOTATION]
      if (name !== undefined) {
        const where = [...path, key].join('.')
        if (typeof name !== 'string' || !TOKEN.test(name)) throw invalid(`${where}: ${JSON.stringify(name)} is not an HTTP header name token`)
        const type = property.type
        if (type !== 'string' && type !== 'integer' && type !== 'boolean') throw invalid(`${where}: type ${JSON.stringify(type)} (only string, integer and boolean parameters may be mirrored)`)
        const header = `mcp-param-${name.toLowerCase()}`
        if (found.some(p => p.header === header)) throw invalid(`${where}: ${name} is used twice (names are case-insensitive)`)
        found.push({ path: [...path, key], header, type })
      }
      walk(property, [...path, key])
    }
  }
  if (isPlainObject(inputSchema)) walk(inputSchema, [])
  return found
}

function valueAt (args: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = args
  for (const key of path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return undefined
    value = value[key]
  }
  return value
}

/** Whether a decoded header value mirrors the body's value; integers compare numerically ("42.0" is 42). */
function mirrors (decoded: string, value: unknown, type: ParamHeader['type']): boolean {
  switch (type) {
    case 'string': return typeof value === 'string' && decoded === value
    case 'boolean': return typeof value === 'boolean' && decoded === String(value)
    case 'integer': return typeof value === 'number' && decoded.trim() !== '' && Number(decoded) === value
  }
}

/**
 * What is wrong with the Mcp-Param-* headers of one tools/call, or undefined when they mirror `arguments`.
 * A value in the body needs its header; a header whose value is not in the body (absent or null) is refused
 * too, since whatever routed on it saw a value the tool will not get. `decode` is the sentinel decoding
 * shared with Mcp-Name (undefined for invalid characters or Base64).
 */
export function paramHeaderMismatch (
  annotated: readonly ParamHeader[],
  headerOf: (name: string) => string | undefined,
  args: Record<string, unknown>,
  decode: (value: string) => string | undefined
): string | undefined {
  for (const param of annotated) {
    const value = valueAt(args, param.path)
    const present = value !== undefined && value !== null
    const sent = headerOf(param.header)
    const shownName = `Mcp-Param-${param.header.slice('mcp-param-'.length)}`
    if (sent === undefined) {
      if (present) return `the ${shownName} header is required: arguments.${param.path.join('.')} is set`
      continue
    }
    if (!present) return `${shownName} is sent but arguments.${param.path.join('.')} has no value`
    const decoded = decode(sent)
    if (decoded === undefined) return `the ${shownName} header has invalid characters or encoding`
    if (!mirrors(decoded, value, param.type)) return `${shownName} does not match arguments.${param.path.join('.')}`
  }
  return undefined
}
