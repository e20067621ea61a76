import t from 'tap'
import { buildTestApp } from '../support/app.ts'

t.test('RFC 8414 metadata is served at both discovery paths with S256 only and the iss parameter', async t => {
  const { app, config } = await buildTestApp(t)
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const res = await app.inject({ method: 'GET', url: path })
    t.equal(res.statusCode, 200, path)
    const body = res.json()
    t.equal(body.issuer, config.publicUrl)
    t.same(body.code_challenge_methods_supported, ['S256'])
    t.equal(body.token_endpoint, `${config.publicUrl}/token`)
    t.equal(body.authorization_response_iss_parameter_supported, true)
    t.equal(body.client_id_metadata_document_supported, true)
    t.same(body.scopes_supported, ['mcp:read', 'mcp:write'])
  }
})

t.test('DESIGN decision 1: both protected resource metadata paths name the /mcp resource (RFC 9728)', async t => {
  const { app, config } = await buildTestApp(t)
  for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
    const res = await app.inject({ method: 'GET', url: path })
    t.equal(res.statusCode, 200)
    t.equal(res.json().resource, `${config.publicUrl}/mcp`)
    t.same(res.json().authorization_servers, [config.publicUrl])
    t.same(res.json().bearer_methods_supported, ['header'])
  }
})

t.test('JWKS publishes an RS256 signing key with a kid', async t => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/jwks.json' })
  t.equal(res.statusCode, 200)
  const [key] = res.json().keys
  t.equal(key.kty, 'RSA')
  t.equal(key.alg, 'RS256')
  t.type(key.kid, 'string')
  t.notOk('d' in key, 'no private part')
})

t.test('healthz reports the store reachable', async t => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok', store: 'ok' })
})
