// Shared by the MCP tests: the real app (buildTestApp) plus small request helpers.
import { mkdtemp, rm } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, type TestApp, type TestAppOptions } from '../support/app.ts'
import { mintToken, type MintOptions, type MintedToken } from '../support/tokens.ts'
import { LocalKeySet } from '../../src/crypto/local-keys.ts'
import { LocalCipher } from '../../src/crypto/local-cipher.ts'
import type { Cipher } from '../../src/ports/cipher.ts'
import { SYSTEM_CLOCK } from '../../src/ports/clock.ts'
import type { KeySet } from '../../src/ports/keys.ts'

export interface McpTestApp extends TestApp {
  keys: KeySet
  cipher: Cipher
  /** A real token (and its saved grant) for this app. */
  mint: (options?: MintOptions) => Promise<MintedToken>
}

/** The real app, built with keys and a cipher the test holds too, so it can mint tokens and seal grants. */
export async function buildMcpApp (t: Test, options: TestAppOptions = {}): Promise<McpTestApp> {
  const keyDir = await mkdtemp(join(tmpdir(), 'gatehouse-mcp-keys-'))
  t.teardown(() => rm(keyDir, { recursive: true, force: true }))
  const clock = options.clock ?? SYSTEM_CLOCK
  const keys = await LocalKeySet.open({ dataDir: keyDir, clock })
  const cipher = new LocalCipher(randomBytes(32))
  const built = await buildTestApp(t, { ...options, services: { keys, cipher, ...options.services } })
  const context = { config: built.config, store: built.store.store, keys, cipher, clock }
  return { ...built, keys, cipher, mint: async (mintOptions = {}) => await mintToken(context, mintOptions) }
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18'
}

let nextId = 1

export function rpc (method: string, params?: Record<string, unknown>, id: string | number = nextId++): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }
}

export async function post (app: FastifyInstance, token: string | undefined, body: unknown, headers: Record<string, string> = {}) {
  return await app.inject({
    method: 'POST',
    url: '/mcp',
    headers: { ...MCP_HEADERS, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  })
}

export async function callTool (app: FastifyInstance, token: string, name: string, args: Record<string, unknown> = {}) {
  return await post(app, token, rpc('tools/call', { name, arguments: args }))
}

/** The JSON inside a tool result's first text block. */
export function toolJson (body: { result?: { content?: Array<{ text?: string }> } }): Record<string, unknown> {
  return JSON.parse(body.result?.content?.[0]?.text ?? 'null') as Record<string, unknown>
}
