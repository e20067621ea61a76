// The one place that turns errors into responses: OAuth errors as RFC 6749 §5.2 JSON (or an HTML page
// on browser routes), store and upstream outages as 503 temporarily_unavailable, anything else as a 500
// that shows nothing internal and is logged once with its stack.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidClientError, InvalidRequestError, OAuthError, ServerError, TemporarilyUnavailableError, TooManyRequestsError } from '../oauth/errors.ts'
import { StoreUnavailableError } from '../ports/store.ts'
import { UpstreamUnavailableError } from '../ports/upstream.ts'
import { KeyServiceError } from '../ports/cipher.ts'
import { errorPage } from '../routes/oauth/pages.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Browser-facing routes answer errors with an HTML page instead of JSON. */
    html?: boolean
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

export function sendOAuthError (request: FastifyRequest, reply: FastifyReply, error: OAuthError): FastifyReply {
  reply.header('cache-control', 'no-store')
  if (error instanceof InvalidClientError && request.headers.authorization?.toLowerCase().startsWith('basic ') === true) {
    reply.header('www-authenticate', 'Basic realm="gatehouse", charset="UTF-8"')
  }
  if (error.status === 503 || error.status === 429) reply.header('retry-after', '5')
  if (request.routeOptions.config?.html === true) {
    return reply.code(error.status).type('text/html; charset=utf-8').send(errorPage(error))
  }
  return reply.code(error.status).type('application/json').send(error.toJSON())
}

export default fp(async function errorsPlugin (app: FastifyInstance) {
  app.setErrorHandler(async (error, request, reply) => {
    const mapped = toOAuthError(error)
    if (mapped.status >= 500 && mapped.code === 'server_error') {
      request.log.error({ err: error }, 'unhandled error')
    } else {
      request.log.info({ error: mapped.code, status: mapped.status, detail: mapped.detail }, 'request refused')
    }
    return sendOAuthError(request, reply, mapped)
  })
  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]?.slice(0, 100)}` })
  })
}, { name: 'gatehouse-errors' })
