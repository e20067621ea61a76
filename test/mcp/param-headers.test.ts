// MCP 2026-07-28 custom headers (transports/streamable-http "Custom Headers from Tool Parameters", SEP-2243):
// which annotations a tool may carry (checked when the server starts), and raw tools/call requests whose
// Mcp-Param-* headers agree or disagree with the body (400, -32020 HeaderMismatch, the id echoed).
import t from 'tap'
import type { Tool as ToolDescription } from '@modelcontextprotocol/sdk/types.js'
import { paramHeadersOf } from '../../src/mcp/param-headers.ts'
import type { McpExtension } from '../../src/mcp/extension.ts'
import { buildMcpApp, post } from './helpers.ts'

const V = '2026-07-28'
const META = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} }

const SCHEMA = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    limit: { type: 'integer', 'x-mcp-header': 'Limit' },
    dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
    target: { type: 'object', properties: { tenant: { type: 'string', 'x-mcp-header': 'Tenant' } } },
    query: { type: 'string' }
  }
}

t.test('annotations: read from properties chains, refused where the revision forbids them', async t => {
  t.same(paramHeadersOf('sql', SCHEMA), [
    { path: ['region'], header: 'mcp-param-region', type: 'string' },
    { path: ['limit'], header: 'mcp-param-limit', type: 'integer' },
    { path: ['dry'], header: 'mcp-param-dry-run', type: 'boolean' },
    { path: ['target', 'tenant'], header: 'mcp-param-tenant', type: 'string' }
  ])
  t.same(paramHeadersOf('plain', { type: 'object', properties: { q: { type: 'string' } } }), [])
  const refused: Array<[string, unknown, RegExp]> = [
    ['empty name', { properties: { a: { type: 'string', 'x-mcp-header': '' } } }, /not an HTTP header name token/],
    ['space in name', { properties: { a: { type: 'string', 'x-mcp-header': 'Re gion' } } }, /not an HTTP header name token/],
    ['CR LF in name', { properties: { a: { type: 'string', 'x-mcp-header': 'A\r\nX-Evil: 1' } } }, /not an HTTP header name token/],
    ['number type', { properties: { a: { type: 'number', 'x-mcp-header': 'A' } } }, /type "number"/],
    ['object type', { properties: { a: { type: 'object', 'x-mcp-header': 'A' } } }, /type "object"/],
    ['duplicate, other case', { properties: { a: { type: 'string', 'x-mcp-header': 'Region' }, b: { type: 'string', 'x-mcp-header': 'REGION' } } }, /used twice/],
    ['under items', { properties: { a: { type: 'array', items: { type: 'string', 'x-mcp-header': 'A' } } } }, /a\.items is not reachable/],
    ['under anyOf', { anyOf: [{ properties: { a: { type: 'string', 'x-mcp-header': 'A' } } }] }, /anyOf is not reachable/],
    ['under $defs', { $defs: { x: { type: 'string', 'x-mcp-header': 'A' } }, properties: { a: { $ref: '#/$defs/x' } } }, /\$defs is not reachable/]
  ]
  for (const [what, schema, message] of refused) t.throws(() => paramHeadersOf('bad', schema), { message }, what)
})

t.test('tools/call in 2026-07-28: Mcp-Param-* headers must mirror the arguments', async t => {
  const calls: unknown[] = []
  const extension: McpExtension = {
    capabilities: {},
    tools: [{ name: 'sql', description: 'runs a query', inputSchema: SCHEMA } as ToolDescription],
    methods: [],
    handle: async (_method, exchange) => { calls.push(exchange.params.arguments); return { content: [{ type: 'text', text: 'done' }] } }
  }
  const built = await buildMcpApp(t, { mcpExtension: extension })
  const { token } = await built.mint({ sub: 'alice', groups: [], scope: ['mcp:read', 'mcp:write'] })
  const call = async (args: Record<string, unknown>, headers: Record<string, string>, id: number | string = 1) =>
    await post(built.app, token, { jsonrpc: '2.0', id, method: 'tools/call', params: { _meta: META, name: 'sql', arguments: args } },
      { 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'sql', ...headers })
  const b64 = (value: string): string => `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`

  const accepted: Array<[string, Record<string, unknown>, Record<string, string>]> = [
    ['plain value', { region: 'us-west1', query: 'q' }, { 'mcp-param-region': 'us-west1' }],
    ['base64 of non-ASCII', { region: 'Hello, 世界' }, { 'mcp-param-region': b64('Hello, 世界') }],
    ['header name case does not matter', { region: 'eu' }, { 'MCP-PARAM-REGION': 'eu' }],
    ['no value, no header', { query: 'q' }, {}],
    ['null value, no header', { region: null }, {}],
    ['integer compared as a number', { limit: 42 }, { 'mcp-param-limit': '42.0' }],
    ['boolean', { dry: false }, { 'mcp-param-dry-run': 'false' }],
    ['nested property', { target: { tenant: 'acme' } }, { 'mcp-param-tenant': 'acme' }],
    ['an unwrapped sentinel-looking value is literal', { region: '=?base64?SGVsbG8=' }, { 'mcp-param-region': '=?base64?SGVsbG8=' }]
  ]
  for (const [what, args, headers] of accepted) {
    const res = await call(args, headers)
    t.equal(res.statusCode, 200, `${what}: served`)
    t.match(res.json(), { id: 1, result: { content: [{ text: 'done' }] } }, what)
  }
  t.equal(calls.length, accepted.length, 'each accepted call reached the tool')

  const refused: Array<[string, Record<string, unknown>, Record<string, string>, RegExp]> = [
    ['value in the body, header missing', { region: 'us-west1' }, {}, /Mcp-Param-region header is required/],
    ['header differs', { region: 'us-west1' }, { 'mcp-param-region': 'eu-central1' }, /does not match arguments\.region/],
    ['base64 of another value', { region: 'us-west1' }, { 'mcp-param-region': b64('eu') }, /does not match/],
    ['base64 without padding', { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVsbG8?=' }, /invalid characters or encoding/],
    ['base64 with characters outside the alphabet', { region: 'Hello' }, { 'mcp-param-region': '=?base64?SGVs!!!bG8=?=' }, /invalid characters or encoding/],
    ['header without a value in the body', { query: 'q' }, { 'mcp-param-region': 'us-west1' }, /sent but arguments\.region has no value/],
    ['integer that differs', { limit: 42 }, { 'mcp-param-limit': '41' }, /does not match arguments\.limit/],
    ['integer header that is not a number', { limit: 42 }, { 'mcp-param-limit': 'forty-two' }, /does not match/],
    ['boolean spelled otherwise', { dry: true }, { 'mcp-param-dry-run': 'True' }, /does not match/],
    ['string given for a boolean', { dry: 'true' }, { 'mcp-param-dry-run': 'true' }, /does not match/],
    ['nested value, header missing', { target: { tenant: 'acme' } }, {}, /Mcp-Param-tenant header is required/]
  ]
  for (const [what, args, headers, message] of refused) {
    const res = await call(args, headers, `r-${what}`)
    t.equal(res.statusCode, 400, `${what}: 400`)
    t.match(res.json(), { jsonrpc: '2.0', id: `r-${what}`, error: { code: -32020, message } }, `${what}: HeaderMismatch with the id`)
  }
  t.equal(calls.length, accepted.length, 'no refused call reached the tool')

  const legacy = await post(built.app, token, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'sql', arguments: { region: 'x' } } }, { 'mcp-protocol-version': '2025-11-25' })
  t.equal(legacy.statusCode, 200, 'the legacy era has no custom headers: served without Mcp-Param-Region')
})

t.test('a tool whose annotation breaks the rules stops the server at start', async t => {
  const extension: McpExtension = {
    capabilities: {},
    tools: [{ name: 'broken', inputSchema: { type: 'object', properties: { n: { type: 'number', 'x-mcp-header': 'N' } } } } as ToolDescription],
    methods: [],
    handle: async () => ({ content: [] })
  }
  await t.rejects(buildMcpApp(t, { mcpExtension: extension }), /tool broken: invalid x-mcp-header annotation/)
})
