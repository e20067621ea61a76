// The one place that turns errors into responses. A route says how it answers (its `errorFormat`):
// OAuth JSON (RFC 6749 §5.2, the default), an HTML page (browser routes, where redirecting an error
// could be unsafe), or the MCP transport's JSON-RPC errors. Store, key-service and upstream outages
// become 503 temporarily_unavailable; anything else a 500 that shows nothing internal and is logged
// once with its stack. Every refusal is logged at info with its error code and description.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InsufficientScopeError, InvalidClientError, InvalidRequestError, MissingTokenError, OAuthError, ServerError, TemporarilyUnavailableError, TooManyRequestsError } from '../oauth/errors.ts'
import { StoreUnavailableError } from '../ports/store.ts'
import { UpstreamUnavailableError } from '../ports/upstream.ts'
import { KeyServiceError } from '../ports/cipher.ts'
import { McpHttpError } from '../mcp/http.ts'
import { INVALID_REQUEST, PARSE_ERROR, TRANSPORT_ERROR } from '../mcp/errors.ts'
import { headerValue, isModernRequest } from '../mcp/modern.ts'
import { wwwAuthenticate } from '../mcp/bearer.ts'
import { errorPage, PAGE_HEADERS } from '../pages/index.ts'

export type ErrorFormat = 'json' | 'html' | 'mcp'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route answers errors; OAuth JSON when absent. */
    errorFormat?: ErrorFormat
    /** Protected-resource routes: the Bearer challenge (RFC 6750 §3, RFC 9728 §5.1) on 401 and insufficient_scope. */
    bearerChallenge?: { resourceMetadata: string, scope: string }
  }
}

/** Maps any thrown value to the OAuthError the client should see. */
export function toOAuthError (error: unknown): OAuthError {
  if (error instanceof OAuthError) return error
  if (error instanceof StoreUnavailableError) return new TemporarilyUnavailableError(undefined, error.message)
  if (error instanceof UpstreamUnavailableError) return new TemporarilyUnavailableError('the identity provider is unavailable, try again shortly', error.message)
  // KMS (or Secrets Manager) throttled or unreachable: retryable, like a store outage.
  if (error instanceof KeyServiceError) return new TemporarilyUnavailableError(undefined, error.message)
  const e = error as FastifyError
  if (e !== null && typeof e === 'object') {
    if (e.validation !== undefined) return new InvalidRequestError(`invalid request: ${e.message}`)
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new InvalidRequestError('unsupported content type')
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new OAuthError('invalid_request', 413, 'request body is too large')
    if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new InvalidRequestError('malformed request body')
    if (e.statusCode === 429) return new TooManyRequestsError()
    if (e instanceof SyntaxError || e.statusCode === 400) return new InvalidRequestError('malformed request')
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new OAuthError('invalid_request', e.statusCode, 'invalid request')
  }
  return new ServerError()
}

/**
 * Body-parsing failures on the MCP endpoint are transport errors, answered in JSON-RPC. The body was not
 * read, so its era is the MCP-Protocol-Version header's: a 2026-07-28 request gets that revision's code
 * (-32600; -32000…-32019 is the legacy range it never sends), a legacy one the SDK's -32000 as before.
 */
function toMcpHttpError (error: unknown, bodyLimit: number, request: FastifyRequest): McpHttpError | undefined {
  if (error instanceof McpHttpError) return error
  const code = isModernRequest(headerValue(request.headers, 'mcp-protocol-version'), undefined) ? INVALID_REQUEST : TRANSPORT_ERROR
  switch ((error as FastifyError | null)?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new McpHttpError(400, PARSE_ERROR, 'Parse error: the body is not valid JSON')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new McpHttpError(413, code, `Request body exceeds ${bodyLimit} bytes`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new McpHttpError(415, code, 'Unsupported Media Type: Content-Type must be application/json')
  }
  return undefined
}

function bearerChallenge (request: FastifyRequest, error: OAuthError): string | undefined {
  const challenge = request.routeOptions.config?.bearerChallenge
  if (challenge === undefined) return undefined
  const { resourceMetadata, scope } = challenge
  if (error instanceof MissingTokenError) return wwwAuthenticate({ resourceMetadata, scope })
  if (error.status === 401) return wwwAuthenticate({ resourceMetadata, scope, error: error.code, description: error.description })
  if (error instanceof InsufficientScopeError) return wwwAuthenticate({ resourceMetadata, error: error.code, scope: error.requiredScope, description: error.description })
  return undefined
}

/** Renders an OAuthError in the route's format, with the headers its status calls for. */
export function sendOAuthError (request: FastifyRequest, reply: FastifyReply, error: OAuthError): FastifyReply {
  reply.header('cache-control', 'no-store')
  const challenge = bearerChallenge(request, error)
  if (challenge !== undefined) reply.header('www-authenticate', challenge)
  else if (error instanceof InvalidClientError && request.headers.authorization?.toLowerCase().startsWith('basic ') === true) {
    reply.header('www-authenticate', 'Basic realm="gatehouse", charset="UTF-8"')
  }
  if (error.status === 503 || error.status === 429) reply.header('retry-after', '5')
  if (request.routeOptions.config?.errorFormat === 'html') {
    // Same page headers as the consent page: no framing, no referrer, no caching.
    return reply.code(error.status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(errorPage(error))
  }
  return reply.code(error.status).type('application/json').send(error.toJSON())
}

/** Every refusal is logged once: 4xx and 503 at info with the error code and description, a 500 with its stack. */
export function logRefusal (request: FastifyRequest, error: OAuthError, cause: unknown = error): void {
  if (error.status >= 500 && error.code === 'server_error') {
    request.log.error({ err: cause }, 'unhandled error')
  } else {
    request.log.info({ error: error.code, error_description: error.description, status: error.status, detail: error.detail }, 'request refused')
  }
}

export default fp(async function errorsPlugin (app: FastifyInstance) {
  app.setErrorHandler(async (error, request, reply) => {
    if (request.routeOptions.config?.errorFormat === 'mcp') {
      const rpc = toMcpHttpError(error, request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0, request)
      if (rpc !== undefined) {
        request.log.info({ error: rpc.code, error_description: rpc.message, status: rpc.status }, 'mcp request refused')
        return reply.code(rpc.status).header('cache-control', 'no-store').type('application/json').send(rpc.toJSON())
      }
    }
    const mapped = toOAuthError(error)
    logRefusal(request, mapped, error)
    return sendOAuthError(request, reply, mapped)
  })
  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]?.slice(0, 100)}` })
  })
}, { name: 'gatehouse-errors', fastify: '5.x' })
