// Legacy-era sessions (Streamable HTTP 2025-03-26 … 2025-11-25, "Session Management") without a session table.
// The Mcp-Session-Id issued at `initialize` carries what the server must remember of the client — the
// negotiated protocol version, the client's capability names, the expiry, a random nonce — and a SHA-256 tag
// over those and the caller it was issued to (issuer, subject, client). Any instance checks it by recomputing
// the tag for the caller that presents it: another user's or another client's token, an edited field or an
// expired value do not match, and the request is refused with 404 (the spec's answer to an unknown session).
// Not the grant: a step-up (MCP authorization, "Scope challenge handling") re-authorizes in the middle of a
// session and retries with a new grant's token; the same user through the same client keeps the session. A
// revoked grant ends nothing here because its token is refused by the bearer check first.
// No key is involved, on purpose: nothing in a session is secret or grants anything (every request is
// authorised by its own bearer token), so a client that builds a session id for itself gains no more than
// calling initialize; and a key would cost a KMS call per instance (or none exists: resource-server mode).
// What the tag must guarantee is the binding, and a hash over the caller gives it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Caller } from './caller.ts'

/** How long a session id is accepted; the client then initializes again (a 404 tells it to). */
export const SESSION_TTL_SECONDS = 86_400

const FORMAT = 'gh1'
const MAX_SESSION_ID = 1024
const MAX_CAPABILITIES = 16
const CAPABILITY_NAME = /^[A-Za-z0-9_./-]{1,64}$/
const B64URL = /^[A-Za-z0-9_-]+$/

export interface McpSession {
  /** The protocol version negotiated at initialize. */
  version: string
  /** The names of the capabilities the client declared at initialize (sorted, at most 16). */
  capabilities: string[]
  /** Epoch seconds. */
  expiresAt: number
  /** Random: tells two sessions of the same caller apart (resumable streams are bound to it). */
  nonce: string
}

const identity = (caller: Caller): string => JSON.stringify([caller.issuer, caller.sub, caller.clientId])

function tag (caller: Caller, payload: string): Buffer {
  return createHash('sha256').update(`gatehouse mcp session ${FORMAT}\0${identity(caller)}\0${payload}`).digest()
}

/** The capability names a session keeps: top-level keys that look like names, at most 16. */
function capabilityNames (capabilities: unknown): string[] {
  if (capabilities === null || typeof capabilities !== 'object' || Array.isArray(capabilities)) return []
  return Object.keys(capabilities).filter(name => CAPABILITY_NAME.test(name)).sort().slice(0, MAX_CAPABILITIES)
}

/** A new session id for this caller, as answered to its initialize. Only visible ASCII (transports: 0x21–0x7E). */
export function issueSession (caller: Caller, version: string, clientCapabilities: unknown, now: number): string {
  const session: McpSession = { version, capabilities: capabilityNames(clientCapabilities), expiresAt: now + SESSION_TTL_SECONDS, nonce: randomBytes(16).toString('base64url') }
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url')
  return `${FORMAT}.${payload}.${tag(caller, payload).toString('base64url')}`
}

/** The session `presented` stands for, if it was issued to this caller and has not expired; undefined otherwise. */
export function checkSession (caller: Caller, presented: string, now: number): McpSession | undefined {
  if (presented.length > MAX_SESSION_ID) return undefined
  const [format, payload, given, extra] = presented.split('.')
  if (format !== FORMAT || payload === undefined || given === undefined || extra !== undefined || !B64URL.test(payload) || !B64URL.test(given)) return undefined
  const expected = tag(caller, payload)
  const presentedTag = Buffer.from(given, 'base64url')
  if (presentedTag.length !== expected.length || !timingSafeEqual(presentedTag, expected)) return undefined
  let session: unknown
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  const { version, capabilities, expiresAt, nonce } = (session ?? {}) as Partial<McpSession>
  if (typeof version !== 'string' || !Array.isArray(capabilities) || typeof expiresAt !== 'number' || typeof nonce !== 'string') return undefined
  if (expiresAt <= now) return undefined
  return { version, capabilities: capabilities.filter((name): name is string => typeof name === 'string'), expiresAt, nonce }
}
