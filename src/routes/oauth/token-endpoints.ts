// POST /register, /token, /introspect, /revoke: JSON in and out, no-store, form bodies where the RFCs say so.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { clientMetadataError, parseBasicAuthorization, registerClient, type ClientCredentials } from '../../oauth/clients.ts'
import { clientRules } from '../../oauth/context.ts'
import { exchangeToken } from '../../oauth/grants/index.ts'
import { introspect, revoke } from '../../oauth/introspection.ts'
import { InvalidRequestError } from '../../oauth/errors.ts'
import { perAddressLimit } from '../../plugins/rate-limits.ts'
import { ClientMetadata, EmptyBody, FormBody, IntrospectionResponse, OAUTH_ERRORS, problemAt, RegisteredClient, TokenResponse } from '../../schemas/index.ts'

function credentials (request: FastifyRequest<{ Body: Record<string, string> }>): ClientCredentials {
  return {
    basic: parseBasicAuthorization(request.headers.authorization),
    clientId: request.body.client_id,
    clientSecret: request.body.client_secret
  }
}

const FORM_ONLY = 'application/x-www-form-urlencoded'

function requireForm (request: FastifyRequest): void {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  if (type !== FORM_ONLY) throw new InvalidRequestError(`content type must be ${FORM_ONLY}`)
}

const tokenRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { ctx } = app.gatehouse
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    reply.header('pragma', 'no-cache')
  })

  app.post('/register', {
    config: perAddressLimit(20),
    schema: { body: ClientMetadata, response: { 201: RegisteredClient, ...OAUTH_ERRORS } },
    // A body that fails the schema is refused with RFC 7591 §3.2.2's codes, not a generic invalid_request.
    attachValidation: true
  }, async (request, reply) => {
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') throw new InvalidRequestError('content type must be application/json')
    const failed = request.validationError?.validation[0]
    if (failed !== undefined) throw clientMetadataError(problemAt(failed.instancePath, failed.message ?? 'is invalid'))
    const { client, response } = await registerClient(request.body, clientRules(ctx))
    app.gatehouse.ctx.audit.event('client.registered', { clientId: client.clientId, clientName: client.clientName, authMethod: client.tokenEndpointAuthMethod, redirectUris: client.redirectUris })
    return reply.code(201).send(response)
  })

  app.post('/token', {
    config: perAddressLimit(120),
    schema: { body: FormBody, response: { 200: TokenResponse, ...OAUTH_ERRORS } }
  }, async (request) => {
    requireForm(request)
    return await exchangeToken(request.body, credentials(request), ctx)
  })

  app.post('/introspect', {
    config: perAddressLimit(600),
    schema: { body: FormBody, response: { 200: IntrospectionResponse, ...OAUTH_ERRORS } }
  }, async (request) => {
    requireForm(request)
    return await introspect(request.body, credentials(request), ctx)
  })

  app.post('/revoke', {
    config: perAddressLimit(120),
    schema: { body: FormBody, response: { 200: EmptyBody, ...OAUTH_ERRORS } }
  }, async (request, reply) => {
    requireForm(request)
    await revoke(request.body, credentials(request), ctx)
    return reply.code(200).send()
  })
}

export default tokenRoutes
