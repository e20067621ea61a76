// Redirect URI rules (DESIGN decision 5, RFC 9700 §4.1, RFC 8252 §7): https anywhere; http only on
// loopback hosts; private-use schemes only from an allow-list; never fragments, wildcards or
// script-capable schemes. Matching is exact, except loopback URIs, which match on any port (RFC 8252 §7.3).
import { isLoopbackHost } from '../loopback.ts'

const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'filesystem:'])
const MAX_LENGTH = 2000

export type RedirectUriProblem = string

/** Returns why the URI is unacceptable for registration, or undefined when it is fine. */
export function redirectUriProblem (uri: string, privateSchemes: readonly string[], ownOrigin?: string): RedirectUriProblem | undefined {
  if (uri.length > MAX_LENGTH) return 'redirect URI is too long'
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return 'redirect URI contains whitespace or control characters'
  if (uri.includes('*')) return 'redirect URI must not contain wildcards'
  let url: URL
  try { url = new URL(uri) } catch { return 'redirect URI is not an absolute URI' }
  if (uri.includes('#')) return 'redirect URI must not contain a fragment'
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `redirect URI scheme ${url.protocol} is not allowed`
  if (url.username !== '' || url.password !== '') return 'redirect URI must not contain user information'
  // A redirect back into gatehouse itself would let one flow's answer start another flow as a
  // same-origin navigation, which is allowed to skip the consent page (DESIGN decision 8).
  if (ownOrigin !== undefined && url.origin === ownOrigin) return 'redirect URI must not point at this authorization server'
  if (url.protocol === 'https:') return url.hostname === '' ? 'redirect URI has no host' : undefined
  if (url.protocol === 'http:') return isLoopbackHost(url.hostname) ? undefined : 'http redirect URIs are allowed only on loopback hosts (127.0.0.1, [::1], localhost)'
  const scheme = url.protocol.slice(0, -1)
  if (privateSchemes.includes(scheme)) return undefined
  return `redirect URI scheme ${scheme}: is not allowed (allowed private-use schemes: ${privateSchemes.join(', ') || 'none'})`
}

/** A loopback redirect URI as written, with its port (canonical digits, no leading zero) taken out. */
const LOOPBACK_RAW = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([1-9]\d{0,4}))?(\/[^#\s\\]*)?$/
const MAX_PORT = 65535

/** Undefined for any other URI, and for a port that cannot exist (it would match, then fail to redirect). */
function loopbackWithoutPort (uri: string): string | undefined {
  const match = LOOPBACK_RAW.exec(uri)
  if (match === null || Number(match[2] ?? 0) > MAX_PORT) return undefined
  return `http://${match[1] as string}${match[3] ?? ''}`
}

/**
 * Does `presented` match the registered URI? Exact string comparison (RFC 9700 §4.1.3); for loopback
 * http URIs the port is left out of the comparison (RFC 8252 §7.3) — on the strings as written, never
 * after URL normalisation, so `..` segments, other spellings of the host or a changed case do not match.
 */
export function redirectUriMatches (registered: string, presented: string): boolean {
  if (registered === presented) return true
  const a = loopbackWithoutPort(registered)
  return a !== undefined && a === loopbackWithoutPort(presented)
}

export function findMatchingRedirectUri (registered: readonly string[], presented: string | undefined): string | undefined {
  if (presented === undefined) return registered.length === 1 ? registered[0] : undefined
  return registered.some(r => redirectUriMatches(r, presented)) ? presented : undefined
}

/** Builds the redirect back to the client with the authorization response parameters (RFC 9207 adds iss). */
export function buildRedirect (redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  return url.href
}
