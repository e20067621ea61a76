// POST /mcp: the MCP resource server (streamable HTTP, stateless, JSON responses). Order of checks:
// Origin (403), bearer token (401/503), body size (413), content type (415), Accept (406),
// MCP-Protocol-Version (400), JSON-RPC shape (-32700/-32600), tool scope (403 insufficient_scope), then the
// shared MCP server. GET and DELETE answer 405: no server-initiated streams, no sessions to end.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import bearerPlugin from '../plugins/bearer.ts'
import { originChecker } from '../plugins/origins.ts'
import { AccessDeniedError, InsufficientScopeError, MissingTokenError } from '../oauth/errors.ts'
import { McpHttpError, TRANSPORT_ERROR, assertAcceptsJson, isJsonMediaType, parseBody, protocolVersion } from '../mcp/http.ts'
import { GatehouseMcpServer, authInfoFor } from '../mcp/server.ts'
import { TOOLS } from '../mcp/tools/index.ts'
import { connectorTools } from '../connectors/index.ts'
import { seedDatasetIfEmpty } from '../mcp/dataset.ts'

const BODY_LIMIT = 1024 * 1024
const DOWNSTREAM_TIMEOUT_MS = 10_000

export default async function mcpRoutes (app: FastifyInstance): Promise<void> {
  const { config, services, audit } = app.gatehouse
  await app.register(bearerPlugin)

  // Local runs seed the sample dataset on start; on AWS `scripts/seed-data.ts` does it once, so a cold
  // start makes no store call it does not need.
  if (!config.inLambda) {
    try {
      const seeded = await seedDatasetIfEmpty(services.store, services.clock)
      if (seeded > 0) app.log.info({ rows: seeded }, 'sample dataset seeded')
    } catch (error) {
      app.log.warn({ err: error }, 'sample dataset not seeded (store unavailable); query_data will show what exists')
    }
  }

  const mcp = new GatehouseMcpServer({
    // The JIRA and Jenkins packs join only when configured.
    tools: [...TOOLS, ...connectorTools(config.connectors, { audit })],
    deps: {
      dataset: services.store,
      grants: services.store,
      cipher: services.cipher,
      clock: services.clock,
      // Resource-server mode holds no upstream tokens, and forwarding the caller's own token would be
      // token passthrough: no on-behalf-of calls there.
      downstreamUrl: config.mode === 'authorization-server' ? config.downstreamUrl : undefined,
      downstreamTimeoutMs: DOWNSTREAM_TIMEOUT_MS,
      fetch: globalThis.fetch
    },
    audit,
    log: app.log
  })
  await mcp.connect()
  app.addHook('onClose', async () => { await mcp.close() })

  // Errors answer in JSON-RPC where the transport refuses, in OAuth JSON otherwise; 401 and
  // insufficient_scope carry the Bearer challenge, whose scope is what a new client should ask for
  // (MCP authorization, "Scope selection").
  const errors = {
    errorFormat: 'mcp',
    bearerChallenge: { resourceMetadata: `${config.publicUrl}/.well-known/oauth-protected-resource/mcp`, scope: config.defaultScopes.join(' ') }
  } as const

  const isAllowedOrigin = originChecker(config.publicUrl, config.allowedOrigins)
  function checkOrigin (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    // DNS rebinding defence (MCP transports, "Security Warning"): browsers always send Origin; other clients may not.
    const origin = request.headers.origin
    if (origin !== undefined && !isAllowedOrigin(origin)) { done(new AccessDeniedError('this Origin is not allowed')); return }
    done()
  }

  app.post('/mcp', {
    bodyLimit: BODY_LIMIT,
    config: errors,
    onRequest: [checkOrigin, app.mcpBearerGuard]
  }, async (request, reply) => {
    const caller = request.mcpCaller
    if (caller === null) throw new MissingTokenError()
    if (!isJsonMediaType(request.headers['content-type'])) throw new McpHttpError(415, TRANSPORT_ERROR, 'Unsupported Media Type: Content-Type must be application/json')
    assertAcceptsJson(request.headers.accept)
    const version = protocolVersion(request.headers['mcp-protocol-version'])
    const { batch, requests } = parseBody(request.body, version)
    for (const message of requests) {
      const scope = mcp.missingScope(caller, message)
      if (scope !== undefined) {
        audit.event('tool.denied', { sub: caller.sub, client_id: caller.clientId, tool: (message.params as { name?: string }).name, reason: 'scope', required_scope: scope })
        // The challenge names the scopes to ask for: what the token already has plus what is missing, so a
        // client that re-authorizes with exactly these (MCP "Scope challenge handling") keeps its other tools.
        const wanted = [...new Set([...caller.scopes.filter(s => config.scopes.includes(s)), scope])].join(' ')
        throw new InsufficientScopeError(wanted, `this tool needs the ${scope} scope`)
      }
    }
    reply.header('cache-control', 'no-store')
    // Notifications and responses are acknowledged and dropped: a stateless server has nothing they could
    // change, and forwarding a cancellation by id would let one caller name another caller's request.
    if (requests.length === 0) return reply.code(202).send()
    const extra = { authInfo: authInfoFor(caller) }
    const answer = batch ? await mcp.transport.exchange(requests, extra) : await mcp.transport.exchangeOne(requests[0]!, extra)
    return reply.type('application/json').send(answer)
  })

  // Stateless: no SSE stream to open (GET) and no session to end (DELETE). MCP transports: 405 is the answer.
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).header('allow', 'POST').header('cache-control', 'no-store').type('application/json')
      .send(new McpHttpError(405, TRANSPORT_ERROR, 'Method Not Allowed: this server is stateless; use POST').toJSON())
  app.get('/mcp', { config: errors }, notAllowed)
  app.delete('/mcp', { config: errors }, notAllowed)
}
