// Browser origins: CORS for the public endpoints, and the Origin check the MCP transport spec requires
// against DNS rebinding (requests without Origin come from non-browser clients and are allowed).
import { isLoopbackRedirect } from '../oauth/redirect-uris.ts'

/** Is this Origin allowed? "*" allows any https origin and loopback http origins. */
export function isAllowedOrigin (origin: string, allowed: readonly string[]): boolean {
  if (allowed.includes(origin)) return true
  if (!allowed.includes('*')) return false
  let url: URL
  try { url = new URL(origin) } catch { return false }
  if (url.origin !== origin) return false
  return url.protocol === 'https:' || isLoopbackRedirect(origin)
}

export function corsOrigin (allowed: readonly string[]) {
  return (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void): void => {
    callback(null, origin !== undefined && isAllowedOrigin(origin, allowed))
  }
}
