// TEST ONLY. The MCP conformance suite's reference fixtures — the tools, resources, prompts, completion and
// logging its scenarios call (test_simple_text, test://static-text, test_simple_prompt, …) — as an
// McpExtension (src/mcp/extension.ts) that only the tests' app registers (buildTestApp's mcpExtension, i.e.
// AppOptions.mcpExtension). Nothing under src/ imports this file, and test/dev/not-in-lambda-bundle.test.ts
// checks that the Lambda bundle holds none of it. Behaviour follows the suite's own reference server
// (modelcontextprotocol/conformance, examples/servers/typescript/everything-server.ts) for both eras:
//   - legacy (2025-11-25 and before): progress and log notifications and sampling/elicitation requests to the
//     client on the tools/call response stream (the endpoint's legacy extension path), and test_reconnection,
//     which closes that stream mid-call (closeSSEStream) so the client must resume it with GET + Last-Event-ID;
//   - 2026-07-28: multi-round-trip requests (SEP-2322): a tool or prompt that needs input returns
//     `resultType: "input_required"` with `inputRequests` and an HMAC-signed `requestState`, and the client calls
//     again with `inputResponses`; no requests to the client, notifications only as the revision allows.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { Tool as ToolDescription } from '@modelcontextprotocol/sdk/types.js'
import { INVALID_PARAMS, METHOD_NOT_FOUND, MISSING_REQUIRED_CLIENT_CAPABILITY, RpcError } from '../../src/mcp/errors.ts'
import type { McpExchange, McpExtension } from '../../src/mcp/extension.ts'

/** A name no production tool, resource or prompt has: the bundle test looks for it. */
export const FIXTURE_MARKER = 'gatehouse-conformance-fixtures'

const IMAGE = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='
const AUDIO = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA='
const CACHE = { ttlMs: 300_000, cacheScope: 'public' } as const
const META_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities'
const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel'

type Result = Record<string, unknown>
const text = (value: string): Result => ({ type: 'text', text: value })
const noArgs = { type: 'object', properties: {} } as const
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** SEP-1613 / SEP-2106: a raw JSON Schema 2020-12 input schema that tools/list must carry unchanged. */
const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' }
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false
}

const tool = (name: string, description: string, inputSchema: Record<string, unknown> = noArgs): ToolDescription =>
  ({ name, description, inputSchema } as ToolDescription)

const TOOLS: readonly ToolDescription[] = [
  tool('test_simple_text', 'Tests simple text content response'),
  tool('test_image_content', 'Tests image content response'),
  tool('test_audio_content', 'Tests audio content response'),
  tool('test_embedded_resource', 'Tests embedded resource content response'),
  tool('test_multiple_content_types', 'Tests response with multiple content types (text, image, resource)'),
  tool('test_tool_with_logging', 'Tests tool that emits log messages during execution'),
  tool('test_tool_with_progress', 'Tests tool that reports progress notifications'),
  tool('test_error_handling', 'Tests error response handling'),
  tool('test_sampling', 'Tests server-initiated sampling (LLM completion request)', { type: 'object', properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } }, required: ['prompt'] }),
  tool('test_elicitation', 'Tests server-initiated elicitation (user input request)', { type: 'object', properties: { message: { type: 'string', description: 'The message to show the user' } }, required: ['message'] }),
  tool('test_elicitation_sep1034_defaults', 'Tests elicitation with default values per SEP-1034'),
  tool('test_elicitation_sep1330_enums', 'Tests elicitation with enum schema improvements per SEP-1330'),
  tool('test_reconnection', 'Tests SSE stream disconnection and client reconnection (SEP-1699)'),
  tool('json_schema_2020_12_tool', 'Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)', JSON_SCHEMA_2020_12),
  // 2026-07-28 diagnostics (server-stateless) and multi-round-trip tools (input-required-result-*).
  tool('test_missing_capability', 'Test tool requiring sampling'),
  tool('test_streaming_elicitation', 'Diagnostic tool validating response streams'),
  tool('test_logging_tool', 'Diagnostic logging validator tool'),
  tool('test_input_required_result_elicitation', 'MRTR: returns InputRequiredResult with elicitation request'),
  tool('test_input_required_result_sampling', 'MRTR: returns InputRequiredResult with sampling request'),
  tool('test_input_required_result_list_roots', 'MRTR: returns InputRequiredResult with roots/list request'),
  tool('test_input_required_result_request_state', 'MRTR: returns InputRequiredResult with requestState'),
  tool('test_input_required_result_multiple_inputs', 'MRTR: returns InputRequiredResult with multiple input requests'),
  tool('test_input_required_result_multi_round', 'MRTR: multi-round InputRequiredResult workflow'),
  tool('test_input_required_result_tampered_state', 'MRTR: HMAC-signed requestState integrity test'),
  tool('test_input_required_result_capabilities', 'MRTR: respects client capabilities in inputRequests'),
  // 2026-07-28 custom headers (SEP-2243, http-custom-header-server-validation): `region` is mirrored into Mcp-Param-Region.
  tool('test_custom_header', 'Custom headers: the region parameter travels as Mcp-Param-Region too', {
    type: 'object',
    properties: { region: { type: 'string', description: 'Where the query runs', 'x-mcp-header': 'Region' }, query: { type: 'string' } },
    required: ['region']
  })
]

const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', title: 'Static Text Resource', description: 'A static text resource for testing', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', title: 'Static Binary Resource', description: 'A static binary resource (image) for testing', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', title: 'Watched Resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' }
]
const TEMPLATES = [{ uriTemplate: 'test://template/{id}/data', name: 'template', title: 'Resource Template', description: 'A resource template with parameter substitution', mimeType: 'application/json' }]

const PROMPTS = [
  { name: 'test_simple_prompt', title: 'Simple Test Prompt', description: 'A simple prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    title: 'Prompt With Arguments',
    description: 'A prompt with required arguments',
    arguments: [{ name: 'arg1', description: 'First test argument', required: true }, { name: 'arg2', description: 'Second test argument', required: true }]
  },
  {
    name: 'test_prompt_with_embedded_resource',
    title: 'Prompt With Embedded Resource',
    description: 'A prompt that includes an embedded resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }]
  },
  { name: 'test_prompt_with_image', title: 'Prompt With Image', description: 'A prompt that includes image content' }
]
const MRTR_PROMPT = { name: 'test_input_required_result_prompt', description: 'MRTR: prompt that requires elicitation input' }

// ── 2026-07-28 multi-round trips ────────────────────────────────────────────────────────────────────

/** requestState: the state as base64url JSON and its HMAC under a per-process key, so a client cannot forge one. */
const STATE_KEY = randomBytes(32)
const mac = (data: string): Buffer => createHmac('sha256', STATE_KEY).update(data).digest()

export function signState (state: Record<string, unknown>): string {
  const data = Buffer.from(JSON.stringify({ ...state, nonce: randomUUID() })).toString('base64url')
  return `${data}.${mac(data).toString('base64url')}`
}

/** The state, or undefined when absent; a state that is not one this process signed is -32602. */
export function verifyState (raw: unknown): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined
  const [data, signature, extra] = typeof raw === 'string' ? raw.split('.') : []
  const given = Buffer.from(signature ?? '', 'base64url')
  const expected = mac(data ?? '')
  if (data === undefined || extra !== undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new RpcError(INVALID_PARAMS, 'requestState integrity check failed')
  }
  return JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as Record<string, unknown>
}

const elicit = (message: string, field: string, type = 'string'): Result => ({
  method: 'elicitation/create',
  params: { message, requestedSchema: { type: 'object', properties: { [field]: { type } }, required: [field] } }
})
const sample = (prompt: string, maxTokens: number): Result => ({
  method: 'sampling/createMessage',
  params: { messages: [{ role: 'user', content: text(prompt) }], maxTokens }
})
const LIST_ROOTS = { method: 'roots/list', params: {} }

const inputRequired = (inputRequests: Record<string, Result>, state?: Record<string, unknown>): Result =>
  ({ resultType: 'input_required', inputRequests, ...(state === undefined ? {} : { requestState: signState(state) }) })

/**
 * The client's answers (`inputResponses`): absent, or an object of answers. null or another non-object is a
 * protocol error (-32602); an answer that is not an object counts as missing, so the input is asked again.
 */
function inputResponses (params: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const given = params.inputResponses
  if (given === undefined) return {}
  if (!isObject(given)) throw new RpcError(INVALID_PARAMS, 'Invalid params: inputResponses must be an object')
  return Object.fromEntries(Object.entries(given).filter((entry): entry is [string, Record<string, unknown>] => isObject(entry[1])))
}

/** An accepted elicitation's field, if the answer has it as a string. */
function elicited (answer: Record<string, unknown> | undefined, field: string): string | undefined {
  const content = answer?.content
  return isObject(content) && typeof content[field] === 'string' ? content[field] : undefined
}

function sampled (answer: Record<string, unknown> | undefined): string | undefined {
  const content = answer?.content
  return isObject(content) && typeof content.text === 'string' ? content.text : undefined
}

function clientCapabilities (params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta
  return isObject(meta) && isObject(meta[META_CAPABILITIES]) ? meta[META_CAPABILITIES] : {}
}

function mrtrTool (name: string, params: Record<string, unknown>): Result {
  const answers = inputResponses(params)
  const state = verifyState(params.requestState)
  switch (name) {
    case 'test_input_required_result_elicitation': {
      const userName = elicited(answers.user_name, 'name')
      return userName !== undefined ? { content: [text(`Hello, ${userName}!`)] } : inputRequired({ user_name: elicit('What is your name?', 'name') })
    }
    case 'test_input_required_result_sampling': {
      const reply = sampled(answers.sample_request)
      return reply !== undefined ? { content: [text(`Sampling result: ${reply}`)] } : inputRequired({ sample_request: sample('What is the capital of France?', 100) })
    }
    case 'test_input_required_result_list_roots': {
      const roots = answers.roots_request?.roots
      return Array.isArray(roots) ? { content: [text(`Found ${roots.length} root(s)`)] } : inputRequired({ roots_request: LIST_ROOTS })
    }
    case 'test_input_required_result_request_state':
      if (state?.kind === 'request-state' && isObject(answers.confirm?.content) && answers.confirm.content.ok === true) return { content: [text('state-ok: requestState validated')] }
      return inputRequired({ confirm: elicit('Please confirm', 'ok', 'boolean') }, { kind: 'request-state' })
    case 'test_input_required_result_multiple_inputs': {
      const userName = elicited(answers.user_name, 'name')
      const greeting = sampled(answers.greeting)
      const roots = answers.client_roots?.roots
      if (state?.kind === 'multiple-inputs' && userName !== undefined && greeting !== undefined && Array.isArray(roots)) {
        return { content: [text(`Name: ${userName}; Greeting: ${greeting}; Roots: ${roots.length}`)] }
      }
      return inputRequired({ user_name: elicit('What is your name?', 'name'), greeting: sample('Generate a greeting', 50), client_roots: LIST_ROOTS }, { kind: 'multiple-inputs' })
    }
    case 'test_input_required_result_multi_round': {
      const step1 = elicited(answers.step1, 'name')
      const step2 = elicited(answers.step2, 'color')
      if (state?.round === 1 && step1 !== undefined) {
        return inputRequired({ step2: elicit('Step 2: What is your favorite color?', 'color') }, { round: 2, name: step1 })
      }
      if (state?.round === 2 && step2 !== undefined) return { content: [text(`Multi-round complete for ${String(state.name)} who likes ${step2}`)] }
      return inputRequired({ step1: elicit('Step 1: What is your name?', 'name') }, { round: 1 })
    }
    case 'test_input_required_result_tampered_state':
      if (state?.kind === 'tamper-test' && answers.confirm !== undefined) return { content: [text('integrity-ok: state verified')] }
      return inputRequired({ confirm: elicit('Please confirm', 'ok', 'boolean') }, { kind: 'tamper-test' })
    default: { // test_input_required_result_capabilities
      const capabilities = clientCapabilities(params)
      const requests: Record<string, Result> = {}
      if (capabilities.elicitation !== undefined) requests.elicit_input = elicit('Elicitation input', 'value')
      if (capabilities.sampling !== undefined) requests.sample_input = sample('Sample request', 50)
      if (Object.keys(answers).length > 0) return { content: [text(`capabilities-ok: received ${Object.keys(answers).join(',')}`)] }
      if (Object.keys(requests).length === 0) return { content: [text('No supported capabilities declared')] }
      return inputRequired(requests, { kind: 'capabilities-test' })
    }
  }
}

// ── tools ───────────────────────────────────────────────────────────────────────────────────────────

const SEP1034_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'User name', default: 'John Doe' },
    age: { type: 'integer', description: 'User age', default: 30 },
    score: { type: 'number', description: 'User score', default: 95.5 },
    status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
    verified: { type: 'boolean', description: 'Verification status', default: true }
  },
  required: []
}

const SEP1330_SCHEMA = {
  type: 'object',
  properties: {
    untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string',
      description: 'Select one option with titles',
      oneOf: [{ const: 'value1', title: 'First Option' }, { const: 'value2', title: 'Second Option' }, { const: 'value3', title: 'Third Option' }]
    },
    legacyEnum: { type: 'string', description: 'Select one option (legacy)', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
    untitledMulti: { type: 'array', description: 'Select multiple options', minItems: 1, maxItems: 3, items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
    titledMulti: {
      type: 'array',
      description: 'Select multiple options with titles',
      minItems: 1,
      maxItems: 3,
      items: { anyOf: [{ const: 'value1', title: 'First Choice' }, { const: 'value2', title: 'Second Choice' }, { const: 'value3', title: 'Third Choice' }] }
    }
  },
  required: []
}

async function elicitation (exchange: McpExchange, message: string, requestedSchema: Record<string, unknown>, label: string): Promise<Result> {
  try {
    const answer = await exchange.request('elicitation/create', { message, requestedSchema })
    return { content: [text(`${label}: action=${String(answer.action)}, content=${JSON.stringify(answer.content ?? {})}`)] }
  } catch (error) {
    return { content: [text(`Elicitation not supported or error: ${(error as Error).message}`)] }
  }
}

/** A log message, in the 2026-07-28 era only when the request asked for a level (server-stateless). */
function log (exchange: McpExchange, data: string): void {
  const meta = exchange.params._meta
  if (exchange.era === 'modern' && !(isObject(meta) && meta[META_LOG_LEVEL] !== undefined)) return
  exchange.notify('notifications/message', { level: 'info', logger: FIXTURE_MARKER, data })
}

async function callTool (exchange: McpExchange): Promise<Result> {
  const { params } = exchange
  const name = params.name as string
  const args = isObject(params.arguments) ? params.arguments : {}
  if (name.startsWith('test_input_required_result_')) {
    if (exchange.era === 'legacy') throw new RpcError(INVALID_PARAMS, `${name} needs protocol version 2026-07-28 (multi-round-trip requests)`)
    return mrtrTool(name, params)
  }
  switch (name) {
    case 'test_simple_text':
      return { content: [text('This is a simple text response for testing.')] }
    case 'test_custom_header':
      return { content: [text(`region: ${String(args.region)}`)] }
    case 'test_image_content':
      return { content: [{ type: 'image', data: IMAGE, mimeType: 'image/png' }] }
    case 'test_audio_content':
      return { content: [{ type: 'audio', data: AUDIO, mimeType: 'audio/wav' }] }
    case 'test_embedded_resource':
      return { content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] }
    case 'test_multiple_content_types':
      return {
        content: [
          text('Multiple content types test:'),
          { type: 'image', data: IMAGE, mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } }
        ]
      }
    case 'test_tool_with_logging':
    case 'test_logging_tool':
      for (const step of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        log(exchange, step)
        await sleep(20)
      }
      return { content: [text(name === 'test_logging_tool' ? 'Logging evaluated' : 'Tool with logging executed successfully')] }
    case 'test_tool_with_progress':
    case 'test_streaming_elicitation': {
      const meta = params._meta
      const token = isObject(meta) ? meta.progressToken : undefined
      for (const progress of [0, 50, 100]) {
        if (token !== undefined) exchange.notify('notifications/progress', { progressToken: token, progress, total: 100, message: `Completed step ${progress} of 100` })
        await sleep(20)
      }
      return { content: [text(name === 'test_streaming_elicitation' ? 'Streaming complete' : String(token ?? 'no progress token'))] }
    }
    case 'test_error_handling':
      return { content: [text('This tool intentionally returns an error for testing')], isError: true }
    case 'test_sampling':
      try {
        const answer = await exchange.request('sampling/createMessage', { messages: [{ role: 'user', content: text(String(args.prompt ?? '')) }], maxTokens: 100 })
        return { content: [text(`LLM response: ${sampled(answer) ?? 'No response'}`)] }
      } catch (error) {
        return { content: [text(`Sampling not supported or error: ${(error as Error).message}`)] }
      }
    case 'test_elicitation':
      return await elicitation(exchange, String(args.message ?? ''), { type: 'object', properties: { response: { type: 'string', description: "User's response" } }, required: ['response'] }, 'User response')
    case 'test_elicitation_sep1034_defaults':
      return await elicitation(exchange, 'Please review and update the form fields with defaults', SEP1034_SCHEMA, 'Elicitation completed')
    case 'test_elicitation_sep1330_enums':
      return await elicitation(exchange, 'Please select options from the enum fields', SEP1330_SCHEMA, 'Elicitation completed')
    case 'test_reconnection':
      // As the suite's reference server: the response stream is closed mid-call, so the client gets the result
      // only by resuming (GET + Last-Event-ID). Without a resumable stream the result simply follows.
      await sleep(50)
      exchange.closeSSEStream?.()
      await sleep(100)
      return { content: [text('Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.')] }
    case 'json_schema_2020_12_tool':
      return { content: [text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`)] }
    default: { // test_missing_capability: MissingRequiredClientCapabilityError unless the client declared sampling
      if (exchange.era === 'modern' && clientCapabilities(params).sampling === undefined) {
        throw new RpcError(MISSING_REQUIRED_CLIENT_CAPABILITY, 'MissingRequiredClientCapabilityError: this tool needs the sampling capability', { requiredCapabilities: { sampling: {} } })
      }
      return { content: [text('Success')] }
    }
  }
}

// ── resources, prompts, completion, logging ─────────────────────────────────────────────────────────

function readResource (exchange: McpExchange): Result {
  const uri = exchange.params.uri
  const template = typeof uri === 'string' ? /^test:\/\/template\/([^/]+)\/data$/.exec(uri) : null
  let contents: Result[]
  if (uri === 'test://static-text') contents = [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }]
  else if (uri === 'test://static-binary') contents = [{ uri, mimeType: 'image/png', blob: IMAGE }]
  else if (uri === 'test://watched-resource') contents = [{ uri, mimeType: 'text/plain', text: 'Watched resource content' }]
  else if (template !== null) contents = [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: template[1], templateTest: true, data: `Data for ID: ${template[1]}` }) }]
  // SEP-2164: an unknown resource is -32602 with the uri in data.
  else throw new RpcError(INVALID_PARAMS, `Resource ${String(uri)} not found`, { uri })
  return { contents, ...(exchange.era === 'modern' ? { ttlMs: CACHE.ttlMs, cacheScope: 'private' } : {}) }
}

function getPrompt (exchange: McpExchange): Result {
  const { name, arguments: given } = exchange.params
  const args = isObject(given) ? given : {}
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] }
    case 'test_prompt_with_arguments':
      return { messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${String(args.arg1)}', arg2='${String(args.arg2)}'`) }] }
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          { role: 'user', content: { type: 'resource', resource: { uri: String(args.resourceUri), mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
          { role: 'user', content: text('Please process the embedded resource above.') }
        ]
      }
    case 'test_prompt_with_image':
      return { messages: [{ role: 'user', content: { type: 'image', data: IMAGE, mimeType: 'image/png' } }, { role: 'user', content: text('Please analyze the image above.') }] }
    case MRTR_PROMPT.name: {
      if (exchange.era === 'legacy') break
      const context = elicited(inputResponses(exchange.params).user_context, 'context')
      if (context !== undefined) return { messages: [{ role: 'user', content: text(`Prompt with context: ${context}`) }] }
      return inputRequired({ user_context: elicit('What context should the prompt use?', 'context') })
    }
  }
  throw new RpcError(INVALID_PARAMS, `Prompt ${String(name)} not found`)
}

/** Methods the 2026-07-28 revision removed (basic/versioning): 404 -32601 in that era. */
const LEGACY_ONLY = new Set(['logging/setLevel', 'resources/subscribe', 'resources/unsubscribe'])

async function handle (method: string, exchange: McpExchange): Promise<Result> {
  const modern = exchange.era === 'modern'
  if (modern && LEGACY_ONLY.has(method)) throw new RpcError(METHOD_NOT_FOUND, 'Method not found')
  const cache = modern ? CACHE : {}
  switch (method) {
    case 'tools/call': return await callTool(exchange)
    case 'resources/list': return { resources: RESOURCES, ...cache }
    case 'resources/templates/list': return { resourceTemplates: TEMPLATES, ...cache }
    case 'resources/read': return readResource(exchange)
    case 'prompts/list': return { prompts: modern ? [...PROMPTS, MRTR_PROMPT] : PROMPTS, ...cache }
    case 'prompts/get': return getPrompt(exchange)
    case 'completion/complete': return { completion: { values: [], total: 0, hasMore: false } }
    // Stateless: nothing is remembered between requests, so a level or subscription is acknowledged only.
    default: return {} // logging/setLevel, resources/subscribe, resources/unsubscribe
  }
}

/** The fixtures, for buildTestApp / buildMcpApp's `mcpExtension`. */
export function conformanceFixtures (): McpExtension {
  return {
    capabilities: { resources: { subscribe: true, listChanged: false }, prompts: { listChanged: false }, logging: {}, completions: {} },
    tools: TOOLS,
    methods: ['resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe', 'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel'],
    handle
  }
}
