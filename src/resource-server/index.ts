// gatehouse/resource-server: a Fastify plugin for MCP servers deployed on their own (another Lambda, a
// container) that accept gatehouse's tokens. Two modes: JWKS (the token's RS256 signature checked against
// gatehouse's /jwks.json, issuer, audience, algorithm and typ pinned, keys cached, an unknown kid refetched
// with a cooldown) or RFC 7662 introspection against gatehouse's /introspect with the server's own
// confidential client (listed in gatehouse's INTROSPECTION_CLIENT_IDS), cached for a short configurable time
// so a revocation is seen within it (0 = on every request). JWKS mode also verifies the gateway's backend JWTs
// (set `resource` to the backend's own URL). Refusals are RFC 6750 challenges naming the server's own RFC 9728
// metadata, which the plugin serves.
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose'
import { LRUCache } from 'lru-cache'

export interface IntrospectionOptions {
  /** Default `<issuer>/introspect`. */
  endpoint?: string
  clientId: string
  clientSecret: string
  /** Seconds an answer (active or not) is reused; 0 = introspect every request. Default 10. */
  cacheSeconds?: number
}

export interface ResourceServerOptions {
  /** This server's resource URL (RFC 8707): the audience every token must name. */
  resource: string
  /** gatehouse's issuer (its public URL). */
  issuer: string
  /** 'jwks' (default) or 'introspection' (needs `introspection`). */
  mode?: 'jwks' | 'introspection'
  /** Default `<issuer>/jwks.json`. */
  jwksUri?: string
  introspection?: IntrospectionOptions
  /** Listed as scopes_supported in the metadata, and asked for in a bare 401 challenge. */
  scopes?: string[]
  /** Tolerated clock skew for exp/nbf/iat, seconds. Default 30. */
  clockToleranceSeconds?: number
  /** For each JWKS or introspection call, milliseconds. Default 5000. */
  timeoutMs?: number
  /** Serve the RFC 9728 metadata at /.well-known/oauth-protected-resource<resource path>. Default true. */
  serveMetadata?: boolean
  resourceName?: string
  fetch?: typeof globalThis.fetch
}

/** Who is calling, as the token says. */
export interface GatehouseAuth {
  sub: string
  clientId: string
  scopes: string[]
  groups: string[]
  email?: string
  /** RFC 8693 `act.sub`: the client acting for the user (the gateway's backend tokens). */
  actor?: string
  /** Epoch seconds. */
  expiresAt: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `app.gatehouseAuthenticate`; null before. */
    gatehouseAuth: GatehouseAuth | null
  }
  interface FastifyInstance {
    /** preHandler: 401 unless the request carries a valid token for this resource. */
    gatehouseAuthenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** preHandler: the above, then 403 insufficient_scope unless the token has every scope. */
    gatehouseRequireScopes: (...scopes: string[]) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
}

/** A refusal, answered by the plugin with the right status and challenge. */
export class ResourceServerError extends Error {
  readonly status: 401 | 403 | 503
  readonly code: 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable' | undefined
  readonly scope: string | undefined
  constructor (status: 401 | 403 | 503, code: ResourceServerError['code'], message: string, scope?: string) {
    super(message)
    this.name = 'ResourceServerError'
    this.status = status
    this.code = code
    this.scope = scope
  }
}

const strings = (value: unknown): string[] => Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : []

function authFrom (claims: Record<string, unknown>): GatehouseAuth {
  if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.exp !== 'number') throw new ResourceServerError(401, 'invalid_token', 'the token lacks sub, client_id or exp')
  const auth: GatehouseAuth = { sub: claims.sub, clientId: claims.client_id, scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [], groups: strings(claims.groups), expiresAt: claims.exp }
  if (typeof claims.email === 'string') auth.email = claims.email
  const act = (claims.act as { sub?: unknown } | undefined)?.sub
  if (typeof act === 'string') auth.actor = act
  return auth
}

type Verify = (token: string) => Promise<GatehouseAuth>

function jwksVerifier (options: ResourceServerOptions): Verify {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/jwks.json`), { timeoutDuration: options.timeoutMs ?? 5000, cooldownDuration: 10_000, cacheMaxAge: 300_000 })
  return async token => {
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.resource, algorithms: ['RS256'], typ: 'at+jwt', clockTolerance: options.clockToleranceSeconds ?? 30, requiredClaims: ['exp', 'iat'] })
      return authFrom(payload)
    } catch (error) {
      if (error instanceof ResourceServerError) throw error
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof Error && !(error instanceof joseErrors.JOSEError))) throw new ResourceServerError(503, 'temporarily_unavailable', 'the issuer\'s keys cannot be fetched right now')
      throw new ResourceServerError(401, 'invalid_token', 'the token is invalid, expired or not for this resource')
    }
  }
}

function introspectionVerifier (options: ResourceServerOptions, settings: IntrospectionOptions): Verify {
  const endpoint = settings.endpoint ?? `${options.issuer}/introspect`
  const ttl = (settings.cacheSeconds ?? 10) * 1000
  const cache = ttl > 0 ? new LRUCache<string, Promise<GatehouseAuth | undefined>>({ max: 10_000, ttl }) : undefined
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64')}`
  const fetchFn = options.fetch ?? globalThis.fetch
  const ask = async (token: string): Promise<GatehouseAuth | undefined> => {
    let response: Response
    try {
      response = await fetchFn(endpoint, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ token }), signal: AbortSignal.timeout(options.timeoutMs ?? 5000) })
    } catch {
      throw new ResourceServerError(503, 'temporarily_unavailable', 'the authorization server cannot be reached')
    }
    if (!response.ok) throw new ResourceServerError(503, 'temporarily_unavailable', `introspection failed (${response.status})`)
    const body = await response.json().catch(() => undefined) as Record<string, unknown> | undefined
    if (body?.active !== true) return undefined
    // RFC 7662 §4: the resource server checks the audience and issuer itself, and takes only access tokens.
    const audiences = Array.isArray(body.aud) ? body.aud : [body.aud]
    if (!audiences.includes(options.resource) || body.iss !== options.issuer || body.token_type !== 'Bearer') return undefined
    return authFrom(body)
  }
  return async token => {
    const key = createHash('sha256').update(token).digest('base64url')
    let pending = cache?.get(key)
    if (pending === undefined) {
      pending = ask(token)
      // Outages are not remembered; answers are, briefly.
      if (cache !== undefined) { cache.set(key, pending); pending.catch(() => cache.delete(key)) }
    }
    const auth = await pending
    if (auth === undefined) throw new ResourceServerError(401, 'invalid_token', 'the token is not active for this resource')
    if (auth.expiresAt + (options.clockToleranceSeconds ?? 30) <= Date.now() / 1000) throw new ResourceServerError(401, 'invalid_token', 'the token has expired')
    return auth
  }
}

/** RFC 9728 §3.1: the metadata URL of a resource, the path inserted after the well-known prefix. */
export function metadataUrl (resource: string): string {
  const url = new URL(resource)
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')}`
}

function challenge (options: ResourceServerOptions, error?: ResourceServerError): string {
  const parts: string[] = []
  if (error?.code === 'invalid_token' || error?.code === 'insufficient_scope') parts.push(`error="${error.code}"`, `error_description="${error.message.replace(/["\\]/g, '')}"`)
  const scope = error?.scope ?? options.scopes?.join(' ')
  if (scope !== undefined && scope !== '') parts.push(`scope="${scope}"`)
  parts.push(`resource_metadata="${metadataUrl(options.resource)}"`)
  return `Bearer ${parts.join(', ')}`
}

export default fp(async function gatehouseResourceServer (app: FastifyInstance, options: ResourceServerOptions) {
  const mode = options.mode ?? 'jwks'
  if (mode === 'introspection' && options.introspection === undefined) throw new TypeError('gatehouse/resource-server: introspection mode needs introspection.clientId and clientSecret')
  const verify = mode === 'introspection' ? introspectionVerifier(options, options.introspection as IntrospectionOptions) : jwksVerifier(options)

  const refuse = async (reply: FastifyReply, error: ResourceServerError): Promise<void> => {
    reply.code(error.status).header('cache-control', 'no-store')
    if (error.status === 503) reply.header('retry-after', '5')
    else reply.header('www-authenticate', challenge(options, error.code === undefined ? undefined : error))
    await reply.send({ error: error.code ?? 'invalid_request', error_description: error.message })
  }

  app.decorateRequest('gatehouseAuth', null)
  async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization
    if (header === undefined || !/^bearer /i.test(header)) return await refuse(reply, new ResourceServerError(401, undefined, 'a bearer token is required'))
    const token = header.slice(7).trim()
    try {
      if (token === '' || token.length > 8192) throw new ResourceServerError(401, 'invalid_token', 'the token is malformed')
      request.gatehouseAuth = await verify(token)
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error
      return await refuse(reply, error)
    }
  }
  app.decorate('gatehouseAuthenticate', authenticate)
  app.decorate('gatehouseRequireScopes', (...scopes: string[]) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.gatehouseAuth === null) await authenticate(request, reply)
    const auth = request.gatehouseAuth
    if (auth === null || reply.sent) return
    const missing = scopes.filter(s => !auth.scopes.includes(s))
    if (missing.length > 0) await refuse(reply, new ResourceServerError(403, 'insufficient_scope', `this needs the ${missing.join(' ')} scope`, [...new Set([...auth.scopes, ...missing])].join(' ')))
  })

  if (options.serveMetadata !== false) {
    const document = {
      resource: options.resource,
      authorization_servers: [options.issuer],
      scopes_supported: options.scopes ?? [],
      bearer_methods_supported: ['header'],
      ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName })
    }
    app.get(new URL(metadataUrl(options.resource)).pathname, async (_request, reply) => await reply.header('cache-control', 'public, max-age=300').send(document))
  }
}, { name: 'gatehouse-resource-server', fastify: '5.x' })
