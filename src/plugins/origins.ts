// Browser origins: which endpoints answer cross-origin at all (CORS), and which origins may call them.
// The same origin rule is the Origin check the MCP transport spec requires on /mcp against DNS rebinding
// (requests without Origin come from non-browser clients and are allowed there).
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { AccessDeniedError } from '../oauth/errors.ts'
import { isLoopbackHost } from '../loopback.ts'

/**
 * Public metadata and the endpoints a client calls with its own credentials (PKCE, client secret, bearer
 * token): /mcp and each gateway backend's /mcp/<name>. The browser routes (/authorize, /authorize/consent, /callback) are not here: RFC 9700 §2.6
 * says the authorization endpoint must not support CORS, and the other two are navigations too.
 */
const CROSS_ORIGIN_PATH = /^\/(?:\.well-known\/[^?]*|jwks\.json|register|token|revoke|introspect|mcp(?:\/[a-z][a-z0-9-]{0,30})?)(?:\?|$)/

export function answersCrossOrigin (url: string): boolean {
  return CROSS_ORIGIN_PATH.test(url)
}

/**
 * Is this Origin allowed? The public URL's own origin, loopback origins (browser tools that run locally,
 * such as the MCP Inspector) and the configured ones. "*" allows any origin: unsafe, since any web page
 * could then reach /mcp through a browser that holds a token or sits on the server's network.
 */
export function originChecker (publicUrl: string, configured: readonly string[]): (origin: string) => boolean {
  const own = new URL(publicUrl).origin
  const any = configured.includes('*')
  return origin => {
    if (any || origin === own || configured.includes(origin)) return true
    const url = URL.parse(origin)
    // `url.origin === origin` refuses anything that is not exactly an origin (paths, userinfo, "null").
    return url !== null && url.origin === origin && (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname)
  }
}

/** What every cross-origin answer allows: no credentials, the headers MCP clients send and read. */
export const CORS_OPTIONS = {
  methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  allowedHeaders: ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id'],
  exposedHeaders: ['www-authenticate', 'mcp-session-id', 'mcp-protocol-version'],
  credentials: false,
  maxAge: 600
}

/**
 * The MCP transports' Origin check (DNS rebinding) as an onRequest hook for /mcp and /mcp/<name>: a browser's
 * Origin must be allowed (403 otherwise); requests without Origin come from other clients and pass.
 */
export function originGuard (isAllowed: (origin: string) => boolean) {
  return function checkOrigin (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const origin = request.headers.origin
    if (origin !== undefined && !isAllowed(origin)) { done(new AccessDeniedError('this Origin is not allowed')); return }
    done()
  }
}

type CorsOptionsCallback = (error: Error | null, options: typeof CORS_OPTIONS & { origin: boolean }) => void

/**
 * @fastify/cors delegator (it sees preflights, whose own route is `OPTIONS *`): CORS only on the
 * cross-origin paths, and there only for allowed origins; anything else gets no CORS headers and an
 * unanswered (404) preflight.
 */
export function corsDelegator (isAllowed: (origin: string) => boolean) {
  return (request: FastifyRequest, callback: CorsOptionsCallback): void => {
    const origin = request.headers.origin
    callback(null, { ...CORS_OPTIONS, origin: origin !== undefined && answersCrossOrigin(request.url) && isAllowed(origin) })
  }
}
