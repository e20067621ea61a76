// POST, GET and DELETE /mcp/<name> for each backend of GATEHOUSE_BACKENDS: the Origin check (403), the
// backend's own bearer check (401 invalid_token for a token of any other resource, RFC 8707), the backend's
// scopes and groups (403), then the gateway (src/gateway/). Errors answer in JSON-RPC where the transport
// refuses, and 401/403 carry a challenge naming this backend's protected-resource metadata. An unknown name
// has no route (404). Event streams pass through as they arrive when gatehouse runs as a server; behind API
// Gateway on Lambda the response is buffered and sent whole.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { originChecker, originGuard } from '../plugins/origins.ts'
import { AccessDeniedError, InsufficientScopeError, InvalidTokenError, MissingTokenError } from '../oauth/errors.ts'
import { checkBearer } from '../mcp/bearer.ts'
import { send } from './mcp.ts'
import type { Caller } from '../mcp/caller.ts'
import type { BackendConfig } from '../config.ts'
import { backendRefusal } from '../gateway/policy.ts'
import { startGateway } from '../gateway/start.ts'
import type { GatewayRequest } from '../gateway/gateway.ts'

const BODY_LIMIT = 1024 * 1024

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a gateway route's bearer check; null elsewhere. */
    gatewayCaller: Caller | null
  }
}

export default async function gatewayRoutes (app: FastifyInstance): Promise<void> {
  const { config, ctx } = app.gatehouse
  if (config.mode !== 'authorization-server' || config.backends.length === 0) return
  const started = startGateway({ config, ctx, log: app.log })
  app.addHook('onClose', started.close)
  app.decorateRequest('gatewayCaller', null)

  const checkOrigin = originGuard(originChecker(config.publicUrl, config.allowedOrigins))

  for (const backend of config.backends) {
    const bearer = started.bearers.get(backend.name)
    if (bearer === undefined) continue
    const routeConfig = {
      errorFormat: 'mcp',
      bearerChallenge: { resourceMetadata: `${config.publicUrl}/.well-known/oauth-protected-resource/mcp/${backend.name}`, scope: (backend.scopes.length > 0 ? backend.scopes : config.defaultScopes).join(' ') }
    } as const

    function guard (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
      // A revoked grant's request that names a backend session ends that session first, on any instance.
      const refuse = (error: Error, token: string | undefined): void => {
        const presented = request.headers['mcp-session-id']
        if (error instanceof InvalidTokenError && token !== undefined && typeof presented === 'string') void started.endSessionOfRefused(backend, token, presented).finally(() => done(error))
        else done(error)
      }
      const admit = (caller: Caller): void => {
        const refusal = backendRefusal(backend, caller)
        if (refusal?.reason === 'scope') {
          done(new InsufficientScopeError([...new Set([...caller.scopes, refusal.scope])].join(' '), `${backend.name} needs the ${refusal.scope} scope`))
          return
        }
        if (refusal?.reason === 'group') {
          ctx.audit.event('gateway.access_denied', { sub: caller.sub, client_id: caller.clientId, backend: backend.name, reason: 'group' })
          done(new AccessDeniedError(`your groups may not use ${backend.name}`))
          return
        }
        request.gatewayCaller = caller
        done()
      }
      checkBearer(request.headers.authorization, token => (bearer as NonNullable<typeof bearer>).authenticate(token), admit, refuse)
    }

    const options = { config: routeConfig, onRequest: [checkOrigin, guard] }
    const path = `/mcp/${backend.name}`
    app.post(path, { ...options, bodyLimit: BODY_LIMIT }, async (request, reply) => send(reply, await started.gateway.post(backend, gatewayRequest(request, reply), request.body)))
    app.get(path, options, async (request, reply) => send(reply, await started.gateway.get(backend, gatewayRequest(request, reply))))
    app.delete(path, options, async (request, reply) => send(reply, await started.gateway.delete(backend, gatewayRequest(request, reply))))
  }
}

/** The caller, the client's headers and a way to learn that the client went away before its answer was sent. */
function gatewayRequest (request: FastifyRequest, reply: FastifyReply): GatewayRequest {
  const caller = request.gatewayCaller
  if (caller === null) throw new MissingTokenError()
  const raw = reply.raw
  const onClientGone = (listener: () => void): (() => void) => {
    const onClose = (): void => { if (!raw.writableFinished) listener() }
    raw.once('close', onClose)
    return () => { raw.removeListener('close', onClose) }
  }
  return { caller, headers: request.headers, onClientGone }
}

