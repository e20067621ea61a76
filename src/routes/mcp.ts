// POST /mcp: the MCP resource server (streamable HTTP, no server-side session state). The route checks the
// Origin (403) and the bearer token (401/503) in its hooks, lets Fastify bound and parse the body (413, -32700),
// hands the caller, headers and body to the MCP endpoint (src/mcp/endpoint.ts: both protocol eras) and sends
// what it answers. GET with Last-Event-ID resumes an event stream (same checks); any other GET, HEAD and
// DELETE answer 405: no server-initiated streams, and sessions end by expiring, not at the client's request.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import bearerPlugin from '../plugins/bearer.ts'
import { originChecker, originGuard } from '../plugins/origins.ts'
import { MissingTokenError } from '../oauth/errors.ts'
import { McpHttpError } from '../mcp/http.ts'
import { TRANSPORT_ERROR } from '../mcp/errors.ts'
import { startMcp } from '../mcp/start.ts'
import { isResume, type McpAnswer } from '../mcp/endpoint.ts'
import type { McpExtension } from '../mcp/extension.ts'

const BODY_LIMIT = 1024 * 1024

export interface McpRoutesOptions {
  /** Tests only (AppOptions.mcpExtension): the conformance suite's reference fixtures. */
  extension?: McpExtension
}

export default async function mcpRoutes (app: FastifyInstance, opts: McpRoutesOptions = {}): Promise<void> {
  const { config, ctx, dataset, streamEvents } = app.gatehouse
  await app.register(bearerPlugin)

  const mcp = await startMcp({ config, dataset, streamEvents, grants: ctx.store, cipher: ctx.cipher, clock: ctx.clock, audit: ctx.audit, log: app.log, ...(opts.extension === undefined ? {} : { extension: opts.extension }) })
  app.addHook('onClose', mcp.close)

  // Errors answer in JSON-RPC where the transport refuses, in OAuth JSON otherwise; 401 and
  // insufficient_scope carry the Bearer challenge, whose scope is what a new client should ask for
  // (MCP authorization, "Scope selection").
  const errors = {
    errorFormat: 'mcp',
    bearerChallenge: { resourceMetadata: `${config.publicUrl}/.well-known/oauth-protected-resource/mcp`, scope: config.defaultScopes.join(' ') }
  } as const

  // DNS rebinding defence (MCP transports, "Security Warning"): browsers always send Origin; other clients may not.
  const checkOrigin = originGuard(originChecker(config.publicUrl, config.allowedOrigins))

  app.post('/mcp', {
    bodyLimit: BODY_LIMIT,
    config: errors,
    onRequest: [checkOrigin, app.mcpBearerGuard]
  }, async (request, reply) => {
    const caller = request.mcpCaller
    if (caller === null) throw new MissingTokenError()
    return send(reply, await mcp.endpoint.handle({ caller, headers: request.headers, body: request.body }))
  })

  // MCP transports: 405 is the answer to a GET for a server-initiated stream (gatehouse has nothing to send
  // outside a request) and to a DELETE (a session cannot be ended early: nothing is stored to end; it expires).
  // Allow lists what the resource serves (RFC 9110 §15.5.6): POST, and GET to resume. HEAD is refused too: a
  // resume only makes sense with its body.
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(405).header('allow', 'GET, POST').header('cache-control', 'no-store').type('application/json')
      .send(new McpHttpError(405, TRANSPORT_ERROR, 'Method Not Allowed: no server-initiated stream and no session to end; use POST (GET only resumes a stream, with Last-Event-ID)').toJSON())
  // Only a resume needs the caller; every other GET is refused before the bearer check (a 2026-07-28 one too:
  // that revision has no GET, and its Mcp-Session-Id is never read).
  const resumesOnly = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isResume(request.headers)) return await notAllowed(request, reply)
  }
  app.get('/mcp', { config: errors, exposeHeadRoute: false, onRequest: [checkOrigin, resumesOnly, app.mcpBearerGuard] }, async (request, reply) => {
    const caller = request.mcpCaller
    if (caller === null) throw new MissingTokenError()
    return send(reply, await mcp.endpoint.resume({ caller, headers: request.headers, signal: clientGone(reply) }))
  })
  app.head('/mcp', { config: errors }, notAllowed)
  app.delete('/mcp', { config: errors }, notAllowed)
}

/** Aborted when the client goes away before its answer is complete (the response closes unfinished). */
function clientGone (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  const raw = reply.raw
  raw.once('close', () => { if (!raw.writableFinished) controller.abort() })
  return controller.signal
}

/** An MCP answer as the reply, never cached: `/mcp` and the gateway's `/mcp/<name>` both send theirs this way. */
export function send (reply: FastifyReply, answer: McpAnswer): FastifyReply {
  reply.code(answer.status).header('cache-control', 'no-store')
  if (answer.headers !== undefined) reply.headers(answer.headers)
  if (answer.contentType !== undefined) reply.type(answer.contentType)
  return reply.send(answer.body)
}
