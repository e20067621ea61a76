// The /mcp bearer guard as an onRequest hook. Authorization-server mode: gatehouse's own tokens, verified
// in memory, with a cached grant check for revocation. Resource-server mode: tokens from the trusted
// issuers, verified with jose against their JWKS (src/mcp/trusted-issuer-bearer.ts; issuers, RS256 and
// audience/client_id pinned).
// Every failure is an OAuthError: 401 invalid_token (also when a JWKS cannot be fetched), 503 when the
// grant store is unreachable; the error handler adds the WWW-Authenticate challenge the route configures.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { GatehouseBearer, GrantCheck, checkBearer } from '../mcp/bearer.ts'
import { TrustedIssuerBearer } from '../mcp/trusted-issuer-bearer.ts'
import type { Caller } from '../mcp/caller.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the bearer guard on /mcp; null elsewhere. */
    mcpCaller: Caller | null
  }
  interface FastifyInstance {
    /** onRequest hook that authenticates /mcp callers. */
    mcpBearerGuard: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void
  }
}

interface Authenticator {
  authenticate (token: string, request: FastifyRequest): Caller | Promise<Caller>
}

/** Resource-server mode: external tokens (e.g. Cognito access tokens) from the pinned issuers. */
function trustedIssuerAuthenticator (app: FastifyInstance): Authenticator {
  const { config } = app.gatehouse
  return new TrustedIssuerBearer({
    issuers: config.trustedIssuers,
    audiences: config.trustedAudiences.length > 0 ? config.trustedAudiences : [config.resourceUrl],
    timeoutMs: config.upstream.timeoutMs,
    clockSkewSeconds: config.ttl.clockSkew
  })
}

function gatehouseAuthenticator (app: FastifyInstance): Authenticator {
  const { config, ctx } = app.gatehouse
  const grants = new GrantCheck({ store: ctx.store, clock: ctx.clock, ttlSeconds: config.ttl.grantCache })
  return new GatehouseBearer({ verifier: ctx.accessTokens, grants, clock: ctx.clock, skewSeconds: config.ttl.clockSkew })
}

export default fp(async function bearerPlugin (app: FastifyInstance) {
  const authenticator = app.gatehouse.config.mode === 'resource-server'
    ? trustedIssuerAuthenticator(app)
    : gatehouseAuthenticator(app)
  app.decorateRequest('mcpCaller', null)
  app.decorate('mcpBearerGuard', function guard (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    checkBearer(request.headers.authorization, token => authenticator.authenticate(token, request), caller => { request.mcpCaller = caller; done() }, error => done(error))
  })
}, { name: 'gatehouse-mcp-bearer', fastify: '5.x', dependencies: ['gatehouse-errors'], decorators: { fastify: ['gatehouse'] } })
