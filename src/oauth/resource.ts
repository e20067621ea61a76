import { InvalidTargetError } from './errors.ts'

/**
 * RFC 8707: gatehouse protects several resources (its own /mcp and one /mcp/<name> per backend), and every
 * token is bound to exactly one. A client names it (with or without a trailing slash) or leaves it out, which
 * means `fallback` (the /mcp URL at /authorize; the code's or grant's resource at /token). Anything that is
 * not one of `resources`, or two different resources at once, is invalid_target.
 */
export function resolveResource (requested: string | string[] | undefined, resources: readonly string[], fallback: string): string {
  if (requested === undefined || requested === '') return fallback
  const values = Array.isArray(requested) ? requested : [requested]
  let chosen: string | undefined
  for (const value of values) {
    const resource = value.replace(/\/$/, '')
    if (!resources.includes(resource)) throw new InvalidTargetError('resource must be one of this server\'s protected resources', `got ${value.slice(0, 200)}`)
    if (chosen !== undefined && chosen !== resource) throw new InvalidTargetError('a token serves one resource: ask for one at a time')
    chosen = resource
  }
  return chosen ?? fallback
}
