// Response schemas serialize (fast-json-stringify sends only what they declare): every member the rules
// produce must reach the client. Each JSON endpoint's answer is compared with what its rules return.
import t from 'tap'
import { buildTestApp } from '../support/app.ts'
import { authorizationServerMetadata, protectedResourceMetadata } from '../../src/oauth/metadata.ts'

const JSON_HEADERS = { 'content-type': 'application/json' }

t.test('RFC 7591 §3.2.1: /register echoes every member it kept, and the secret', async t => {
  const { app } = await buildTestApp(t)
  const metadata = {
    redirect_uris: ['https://client.example/cb'],
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: 'All members',
    client_uri: 'https://client.example/',
    logo_uri: 'https://client.example/logo.png',
    scope: 'mcp:read',
    software_id: 'sw-1',
    software_version: '1.2.3',
    application_type: 'web',
    tos_uri: 'https://client.example/tos'
  }
  const res = await app.inject({ method: 'POST', url: '/register', headers: JSON_HEADERS, payload: JSON.stringify(metadata) })
  t.equal(res.statusCode, 201)
  const body = res.json()
  const { tos_uri: _ignored, ...kept } = metadata
  t.match(body, kept, 'every member gatehouse keeps is echoed')
  t.type(body.client_id, 'string')
  t.type(body.client_secret, 'string')
  t.equal(body.client_secret_expires_at, 0)
  t.type(body.client_id_issued_at, 'number')
  t.notOk('tos_uri' in body, 'a member gatehouse ignores is not echoed')
})

t.test('a body that fails the schema gets RFC 7591 §3.2.2 codes: redirect_uris → invalid_redirect_uri, others → invalid_client_metadata', async t => {
  const { app } = await buildTestApp(t)
  const good = { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none' }
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['redirect_uris a string', { redirect_uris: 'https://client.example/cb' }, 'invalid_redirect_uri'],
    ['a redirect URI not a string', { redirect_uris: [1] }, 'invalid_redirect_uri'],
    ['contacts a string', { contacts: 'ops@client.example' }, 'invalid_client_metadata'],
    ['software_id too long', { software_id: 'x'.repeat(201) }, 'invalid_client_metadata']
  ]
  for (const [name, extra, code] of cases) {
    const res = await app.inject({ method: 'POST', url: '/register', headers: JSON_HEADERS, payload: JSON.stringify({ ...good, ...extra }) })
    t.equal(res.statusCode, 400, name)
    t.equal(res.json().error, code, name)
    t.match(res.json().error_description, /\w+ /, `${name}: ${res.json().error_description}`)
  }
})

t.test('discovery documents, JWKS and health are sent whole', async t => {
  const { app, config } = await buildTestApp(t)
  const as = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
  t.same(as.json(), authorizationServerMetadata({ issuer: config.publicUrl, scopes: config.scopes }))
  const prm = await app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' })
  t.same(prm.json(), protectedResourceMetadata({ resource: config.resourceUrl, authorizationServers: [config.publicUrl], scopes: config.scopes }))
  const jwks = await app.inject({ method: 'GET', url: '/jwks.json' })
  t.same(jwks.json(), { keys: await app.gatehouse.ctx.keys.publicKeys() })
  const health = await app.inject({ method: 'GET', url: '/healthz' })
  t.same(health.json(), { status: 'ok', store: 'ok' })
})

t.test('errors keep their shape under the error schema: error and error_description', async t => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=password' })
  t.equal(res.statusCode, 400)
  t.same(Object.keys(res.json()).sort(), ['error', 'error_description'])
})
