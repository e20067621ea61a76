// The /mcp bearer guard as an onRequest hook. Authorization-server mode: gatehouse's own tokens, verified
// in memory, with a cached grant check for revocation. Resource-server mode: tokens from the trusted
// issuers, verified by @fastify/jwt with keys from get-jwks (issuers, RS256 and audience/client_id pinned).
// Every failure is an OAuthError: 401 invalid_token (also when a JWKS cannot be fetched), 503 when the
// grant store is unreachable; the route's error handler adds the WWW-Authenticate challenge.
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { InvalidTokenError, OAuthError } from '../oauth/errors.ts'
import { GatehouseBearer, GrantCheck, bearerToken, freezeCaller } from '../mcp/bearer.ts'
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

/** No credential at all: the challenge carries no error code (RFC 6750 §3.1). */
export class MissingTokenError extends OAuthError {
  constructor () { super('invalid_token', 401, 'a bearer access token is required') }
}

interface Authenticator {
  authenticate (token: string, request: FastifyRequest): Caller | Promise<Caller>
}

const PEM_TTL_MS = 5 * 60_000

/** Cognito names custom scopes `<resource server id>/<scope>`; the tools ask for the bare scope. */
const resourceServerScope = (scope: string): string => scope.slice(scope.lastIndexOf('/') + 1)
const JWKS_FAILURE_BACKOFF_MS = 10_000

/** Resource-server mode: external tokens (e.g. Cognito access tokens) from the pinned issuers. */
async function trustedIssuerAuthenticator (app: FastifyInstance): Promise<Authenticator> {
  const { config } = app.gatehouse
  const issuers = config.trustedIssuers
  const audiences = config.trustedAudiences.length > 0 ? config.trustedAudiences : [config.resourceUrl]
  const getJwks = buildGetJwks({ issuersWhitelist: issuers, providerDiscovery: true, max: 100, ttl: PEM_TTL_MS })
  const jwksTimeoutMs = config.upstream.timeoutMs
  // JWK → PEM per issuer and kid, so the hot path does no conversion; failures back off so random kids
  // cannot make us hammer an issuer's JWKS.
  const pems = new Map<string, { pem: string, until: number }>()
  const failures = new Map<string, number>()
  // Unknown kids are looked up at most once per issuer per JWKS_FAILURE_BACKOFF_MS (forged tokens with
  // random kids must not turn into outbound requests); concurrent requests for one kid share a lookup.
  const issuerLookups = new Map<string, number>()
  const inflight = new Map<string, Promise<string>>()

  async function publicKey (_request: FastifyRequest, decoded: { header: { kid?: unknown, alg?: unknown }, payload: { iss?: unknown } }): Promise<string> {
    const { kid, alg } = decoded.header
    const iss = decoded.payload.iss
    if (alg !== 'RS256' || typeof kid !== 'string' || typeof iss !== 'string' || !issuers.includes(iss)) {
      throw new InvalidTokenError(undefined, 'untrusted issuer, algorithm or kid')
    }
    const key = `${iss}#${kid}`
    const now = Date.now()
    const cached = pems.get(key)
    if (cached !== undefined && cached.until > now) return cached.pem
    if ((failures.get(key) ?? 0) > now) throw new InvalidTokenError(undefined, 'JWKS recently failed for this kid')
    const pending = inflight.get(key)
    if (pending !== undefined) return await pending
    if ((issuerLookups.get(iss) ?? 0) > now) throw new InvalidTokenError(undefined, 'unknown kid; the issuer\'s keys were looked up moments ago')
    issuerLookups.set(iss, now + JWKS_FAILURE_BACKOFF_MS)
    const lookup = fetchPem(key, kid, alg, iss, now)
    inflight.set(key, lookup)
    try { return await lookup } finally { inflight.delete(key) }
  }

  async function fetchPem (key: string, kid: string, alg: string, iss: string, now: number): Promise<string> {
    try {
      // get-jwks' own timeout option does not reach fetch(); bound the wait here.
      let timer: NodeJS.Timeout | undefined
      const pem = await Promise.race([
        getJwks.getPublicKey({ kid, alg, domain: iss }),
        new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timed out')), jwksTimeoutMs) })
      ]).finally(() => clearTimeout(timer))
      if (pems.size >= 1000) pems.delete(pems.keys().next().value as string)
      pems.set(key, { pem, until: now + PEM_TTL_MS })
      return pem
    } catch (error) {
      if (failures.size >= 1000) failures.delete(failures.keys().next().value as string)
      failures.set(key, now + JWKS_FAILURE_BACKOFF_MS)
      throw new InvalidTokenError(undefined, `JWKS: ${(error as Error).message}`)
    }
  }

  await app.register(fastifyJwt, {
    secret: publicKey as never,
    decode: { complete: true },
    decoratorName: 'externalTokenClaims',
    verify: {
      algorithms: ['RS256'],
      allowedIss: issuers,
      clockTolerance: config.ttl.clockSkew,
      requiredClaims: ['exp', 'iss', 'sub']
    }
  })

  return {
    async authenticate (_token, request) {
      let claims: Record<string, unknown>
      try {
        claims = await request.jwtVerify<Record<string, unknown>>()
      } catch (error) {
        if (error instanceof OAuthError) throw error
        throw new InvalidTokenError(undefined, `${(error as { code?: string }).code ?? 'verify'}: ${(error as Error).message}`)
      }
      // Cognito: access tokens say token_use=access and carry client_id instead of aud; ID tokens are refused.
      if (claims.token_use !== undefined && claims.token_use !== 'access') throw new InvalidTokenError(undefined, 'not an access token')
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
      const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined
      const pinned = aud.some(a => typeof a === 'string' && audiences.includes(a)) || (clientId !== undefined && audiences.includes(clientId))
      if (!pinned) throw new InvalidTokenError(undefined, 'audience/client_id not trusted')
      const groups = claims['cognito:groups'] ?? claims.groups
      return freezeCaller({
        sub: String(claims.sub),
        ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
        groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
        scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean).map(resourceServerScope) : [],
        clientId: clientId ?? String(aud[0]),
        issuer: String(claims.iss),
        expiresAt: Number(claims.exp)
      })
    }
  }
}

function gatehouseAuthenticator (app: FastifyInstance): Authenticator {
  const { config, services, ctx } = app.gatehouse
  const grants = new GrantCheck({ store: services.store, clock: services.clock, ttlSeconds: config.ttl.grantCache })
  return new GatehouseBearer({ verifier: ctx.accessTokens, grants, clock: services.clock, skewSeconds: config.ttl.clockSkew })
}

export default fp(async function bearerPlugin (app: FastifyInstance) {
  const authenticator = app.gatehouse.config.mode === 'resource-server'
    ? await trustedIssuerAuthenticator(app)
    : gatehouseAuthenticator(app)
  app.decorateRequest('mcpCaller', null)
  app.decorate('mcpBearerGuard', function guard (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) {
    const token = bearerToken(request.headers.authorization)
    if (token === undefined) { done(new MissingTokenError()); return }
    if (token === '') { done(new InvalidTokenError(undefined, 'empty bearer token')); return }
    let result: Caller | Promise<Caller>
    try {
      result = authenticator.authenticate(token, request)
    } catch (error) {
      done(error as Error)
      return
    }
    if (result instanceof Promise) {
      result.then(caller => { request.mcpCaller = caller; done() }, error => done(error as Error))
    } else {
      request.mcpCaller = result
      done()
    }
  })
}, { name: 'gatehouse-mcp-bearer', dependencies: ['gatehouse-services'] })
