// Legacy-era sessions (Streamable HTTP 2025-03-26 … 2025-11-25, "Session Management") without a session table.
// The Mcp-Session-Id issued at `initialize` carries the negotiated protocol version, an expiry and a random
// nonce, and a SHA-256 tag over those and the caller it was issued to (src/mcp/caller.ts principalKey: issuer,
// subject, client). Any instance checks it by recomputing the tag for the caller that presents it: an id
// issued to another user or client, an edited or expired one, does not match, and the request is refused with
// 404 (the spec's answer to an unknown session).
// Bound to the caller, not secret and not tamper-proof against that caller: no key is involved, so anyone who
// knows (issuer, subject, client) — the caller itself first — can compute a valid id with any version, expiry
// and nonce. That is accepted because a session grants nothing: every request is authorized by its own bearer
// token, and a self-made id gets no more than calling initialize. A key would need a per-deployment secret in
// every mode, and resource-server mode has none. The version it carries is validated where it is used.
import { createHash, randomBytes } from 'node:crypto'
import { principalKey, type Caller } from './caller.ts'

/** How long a session id is accepted; the client then initializes again (a 404 tells it to). */
export const SESSION_TTL_SECONDS = 86_400

const FORMAT = 'gh1'
/** Longer ids are refused unread; every id issueSession makes is far shorter (no field grows with the client). */
export const MAX_SESSION_ID = 1024
const B64URL = /^[A-Za-z0-9_-]+$/

export interface McpSession {
  /** The protocol version negotiated at initialize, as the id says (validated by whoever uses it). */
  version: string
  /** Epoch seconds. */
  expiresAt: number
  /** Random: tells two sessions of the same caller apart (resumable streams are bound to it). */
  nonce: string
}

/** The tag of a session payload for a caller. Public: the same inputs give the same tag, for anyone. */
export function sessionTag (caller: Caller, payload: string): string {
  return createHash('sha256').update(`gatehouse mcp session ${FORMAT}\0${principalKey(caller)}\0${payload}`).digest('base64url')
}

/** A new session id for this caller, as answered to its initialize. Only visible ASCII (transports: 0x21–0x7E). */
export function issueSession (caller: Caller, version: string, now: number): string {
  const session: McpSession = { version, expiresAt: now + SESSION_TTL_SECONDS, nonce: randomBytes(16).toString('base64url') }
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url')
  return `${FORMAT}.${payload}.${sessionTag(caller, payload)}`
}

/** The session `presented` stands for, if it is bound to this caller and has not expired; undefined otherwise. */
export function checkSession (caller: Caller, presented: string, now: number): McpSession | undefined {
  if (presented.length > MAX_SESSION_ID) return undefined
  const [format, payload, given, extra] = presented.split('.')
  if (format !== FORMAT || payload === undefined || given === undefined || extra !== undefined || !B64URL.test(payload)) return undefined
  // A plain comparison: the expected tag is no secret (see above), so timing can reveal nothing.
  if (given !== sessionTag(caller, payload)) return undefined
  let session: unknown
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  const { version, expiresAt, nonce } = (session ?? {}) as Partial<McpSession>
  if (typeof version !== 'string' || typeof expiresAt !== 'number' || typeof nonce !== 'string') return undefined
  if (expiresAt <= now) return undefined
  return { version, expiresAt, nonce }
}
