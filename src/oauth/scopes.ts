import { InvalidScopeError } from './errors.ts'

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

export function parseScope (scope: string | undefined): string[] {
  if (scope === undefined) return []
  const parts = scope.split(' ').filter(s => s !== '')
  for (const p of parts) if (!SCOPE_TOKEN.test(p)) throw new InvalidScopeError('scope contains an invalid character')
  return [...new Set(parts)]
}

/**
 * The scopes to grant: what was asked for (or the defaults when nothing was), each one supported,
 * and within the client's registered scope when it registered one.
 */
export function resolveRequestedScope (requested: string | undefined, options: { supported: string[], defaults: string[], clientScope?: string | undefined }): string[] {
  const asked = parseScope(requested)
  const allowedForClient = options.clientScope === undefined ? options.supported : parseScope(options.clientScope).filter(s => options.supported.includes(s))
  const wanted = asked.length > 0 ? asked : options.defaults.filter(s => allowedForClient.includes(s))
  const unknown = wanted.filter(s => !options.supported.includes(s))
  if (unknown.length > 0) throw new InvalidScopeError(`unsupported scope: ${unknown.join(' ')}`)
  const notAllowed = wanted.filter(s => !allowedForClient.includes(s))
  if (notAllowed.length > 0) throw new InvalidScopeError(`scope not allowed for this client: ${notAllowed.join(' ')}`)
  if (wanted.length === 0) throw new InvalidScopeError('no scope could be granted')
  return wanted
}

/** RFC 6749 §6: a refresh may narrow the scope, never widen it. */
export function narrowScope (requested: string | undefined, granted: string[]): string[] {
  const asked = parseScope(requested)
  if (asked.length === 0) return granted
  const extra = asked.filter(s => !granted.includes(s))
  if (extra.length > 0) throw new InvalidScopeError(`scope exceeds the original grant: ${extra.join(' ')}`)
  return asked
}
