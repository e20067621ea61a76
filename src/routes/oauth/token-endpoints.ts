// POST /register, /token, /introspect, /revoke: JSON in and out, no-store, form bodies where the RFCs say so.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { parseBasicAuthorization, registerClient, type ClientCredentials, type ClientMetadataInput } from '../../oauth/clients.ts'
import { clientRules } from '../../oauth/context.ts'
import { exchangeToken } from '../../oauth/grants/index.ts'
import { introspect, revoke } from '../../oauth/introspection.ts'
import { InvalidRequestError } from '../../oauth/errors.ts'
import { perAddressLimit } from '../../plugins/rate-limits.ts'

const Field = Type.String({ maxLength: 8192 })
/** Form parameters must not repeat (RFC 6749 §3.2): a repeated one arrives as an array and fails this schema. */
const FormBody = Type.Record(Type.String({ maxLength: 100 }), Field)

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
    schema: { body: Type.Object({}, { additionalProperties: true }) }
  }, async (request, reply) => {
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') throw new InvalidRequestError('content type must be application/json')
    const { client, response } = await registerClient(request.body as ClientMetadataInput, clientRules(ctx))
    app.gatehouse.ctx.audit.event('client.registered', { clientId: client.clientId, clientName: client.clientName, authMethod: client.tokenEndpointAuthMethod, redirectUris: client.redirectUris })
    return reply.code(201).send(response)
  })

  app.post('/token', {
    config: perAddressLimit(120),
    schema: { body: FormBody }
  }, async (request) => {
    requireForm(request)
    return await exchangeToken(request.body, credentials(request), ctx)
  })

  app.post('/introspect', {
    config: perAddressLimit(600),
    schema: { body: FormBody }
  }, async (request) => {
    requireForm(request)
    return await introspect(request.body, credentials(request), ctx)
  })

  app.post('/revoke', {
    config: perAddressLimit(120),
    schema: { body: FormBody }
  }, async (request, reply) => {
    requireForm(request)
    await revoke(request.body, credentials(request), ctx)
    return reply.code(200).send()
  })
}

export default tokenRoutes
