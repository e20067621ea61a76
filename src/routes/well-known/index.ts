// Discovery documents (RFC 8414, OIDC Discovery, RFC 9728) and the JWKS. Public, cacheable, CORS-open.
import type { FastifyPluginAsync } from 'fastify'
import { authorizationServerMetadata, protectedResourceMetadata } from '../../oauth/metadata.ts'
import { AuthorizationServerMetadata, Jwks, ProtectedResourceMetadata } from '../../schemas/index.ts'

const wellKnownRoutes: FastifyPluginAsync = async (app) => {
  const { config, ctx } = app.gatehouse
  const asMetadata = authorizationServerMetadata({ issuer: config.publicUrl, scopes: config.scopes })
  const authorizationServers = config.mode === 'resource-server' ? config.trustedIssuers : [config.publicUrl]
  const prm = protectedResourceMetadata({ resource: config.resourceUrl, authorizationServers, scopes: config.scopes })
  const cache = 'public, max-age=300'
  const asSchema = { schema: { response: { 200: AuthorizationServerMetadata } } }
  const prmSchema = { schema: { response: { 200: ProtectedResourceMetadata } } }

  if (config.mode === 'authorization-server') {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      app.get(path, asSchema, async (_request, reply) => reply.header('cache-control', cache).send(asMetadata))
    }
    app.get('/jwks.json', { schema: { response: { 200: Jwks } } }, async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send({ keys: await ctx.keys.publicKeys() }))
  }
  // DESIGN decision 1: both paths; the root one still names the /mcp resource.
  for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
    app.get(path, prmSchema, async (_request, reply) => reply.header('cache-control', cache).send(prm))
  }
  // Each gateway backend is its own protected resource (RFC 9728 §3.1: the path is inserted after the
  // well-known prefix); an unknown name has no route and answers 404.
  for (const backend of config.backends.filter(b => !b.direct)) {
    const document = protectedResourceMetadata({ resource: backend.resource, authorizationServers, scopes: config.scopes, name: backend.title })
    app.get(`/.well-known/oauth-protected-resource/mcp/${backend.name}`, prmSchema, async (_request, reply) => reply.header('cache-control', cache).send(document))
  }
}

export default wellKnownRoutes
