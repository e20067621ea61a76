// Discovery documents (RFC 8414, OIDC Discovery, RFC 9728) and the JWKS. Public, cacheable, CORS-open.
import type { FastifyPluginAsync } from 'fastify'
import { authorizationServerMetadata, protectedResourceMetadata } from '../../oauth/metadata.ts'

const wellKnownRoutes: FastifyPluginAsync = async (app) => {
  const { config, ctx } = app.gatehouse
  const asMetadata = authorizationServerMetadata({ issuer: config.publicUrl, scopes: config.scopes })
  const authorizationServers = config.mode === 'resource-server' ? config.trustedIssuers : [config.publicUrl]
  const prm = protectedResourceMetadata({ resource: config.resourceUrl, authorizationServers, scopes: config.scopes })
  const cache = 'public, max-age=300'

  if (config.mode === 'authorization-server') {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      app.get(path, async (_request, reply) => reply.header('cache-control', cache).send(asMetadata))
    }
    app.get('/jwks.json', async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send({ keys: await ctx.keys.publicKeys() }))
  }
  // DESIGN decision 1: both paths; the root one still names the /mcp resource.
  for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
    app.get(path, async (_request, reply) => reply.header('cache-control', cache).send(prm))
  }
  // Each gateway backend is its own protected resource (RFC 9728 §3.1: the path is inserted after the
  // well-known prefix); an unknown name has no route and answers 404.
  for (const backend of config.backends) {
    const document = protectedResourceMetadata({ resource: backend.resource, authorizationServers, scopes: config.scopes, name: backend.title })
    app.get(`/.well-known/oauth-protected-resource/mcp/${backend.name}`, async (_request, reply) => reply.header('cache-control', cache).send(document))
  }
}

export default wellKnownRoutes
