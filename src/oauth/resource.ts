import { InvalidTargetError } from './errors.ts'

/**
 * RFC 8707: gatehouse protects one resource, its /mcp URL. A client may name it (with or without a
 * trailing slash) or leave it out; anything else is invalid_target.
 */
export function resolveResource (requested: string | string[] | undefined, resource: string): string {
  if (requested === undefined || requested === '') return resource
  const values = Array.isArray(requested) ? requested : [requested]
  for (const value of values) {
    if (value.replace(/\/$/, '') !== resource) throw new InvalidTargetError('resource must be this server\'s MCP URL', `got ${value.slice(0, 200)}`)
  }
  return resource
}
