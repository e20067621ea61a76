// The kit's edges in process: the introspection cache and its limits, outages as 503 (never cached), what an
// introspection answer must say (audience, issuer, access token, expiry), options it refuses, and metadata URLs.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import gatehouseResourceServer, { metadataUrl, type ResourceServerOptions } from '../../src/resource-server/index.ts'
import { freePort } from '../support/net.ts'

const RESOURCE = 'https://team.example/mcp'
const ISSUER = 'https://gh.example'

async function kit (t: Test, options: Partial<ResourceServerOptions>) {
  const app = Fastify()
  await app.register(gatehouseResourceServer, { resource: RESOURCE, issuer: ISSUER, ...options })
  app.get('/whoami', { preHandler: app.gatehouseAuthenticate }, async request => request.gatehouseAuth)
  t.teardown(() => app.close())
  return app
}

const now = (): number => Math.floor(Date.now() / 1000)
const active = (overrides: Record<string, unknown> = {}) => ({ active: true, sub: 'u1', client_id: 'c1', scope: 'mcp:read', aud: RESOURCE, iss: ISSUER, exp: now() + 600, iat: now(), token_type: 'Bearer', groups: ['eng'], ...overrides })

t.test('introspection: answers cached for cacheSeconds; outages are 503 and not cached; the answer must fit', async t => {
  let calls = 0
  let answer: () => Response = () => Response.json(active())
  const fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    calls++
    t.match(String((init?.headers as Record<string, string>).authorization), /^Basic /)
    return answer()
  }) as typeof globalThis.fetch
  const app = await kit(t, { mode: 'introspection', introspection: { clientId: 'rs', clientSecret: 's', cacheSeconds: 60 }, fetch })
  const ask = async (token = 'tok') => await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${token}` } })
  t.match((await ask()).json(), { sub: 'u1', clientId: 'c1', scopes: ['mcp:read'], groups: ['eng'] })
  await ask()
  t.equal(calls, 1, 'cached')
  answer = () => { throw new Error('connection refused') }
  const down = await ask('other')
  t.equal(down.statusCode, 503)
  t.equal(down.headers['retry-after'], '5')
  answer = () => new Response('nope', { status: 500 })
  t.equal((await ask('other')).statusCode, 503, 'a failing endpoint')
  const cases: Array<[string, Record<string, unknown>]> = [
    ['inactive', { active: false }],
    ['another audience', active({ aud: 'https://else.example/mcp' })],
    ['another issuer', active({ iss: 'https://evil.example' })],
    ['a refresh token', active({ token_type: 'refresh_token' })],
    ['expired', active({ exp: now() - 3600 })],
    ['no client_id', active({ client_id: undefined })]
  ]
  for (const [name, body] of cases) {
    answer = () => Response.json(body)
    const res = await ask(name)
    t.equal(res.statusCode, 401, name)
    t.match(res.headers['www-authenticate'], /error="invalid_token"/, name)
  }
  answer = () => new Response('not json', { status: 200 })
  t.equal((await ask('garbage')).statusCode, 401, 'an answer that is not JSON is not active')
})

t.test('JWKS unreachable is 503; a malformed or missing credential is 401; bad options are refused at start', async t => {
  const port = await freePort()
  const app = await kit(t, { issuer: `http://127.0.0.1:${port}`, timeoutMs: 500, serveMetadata: false })
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'k' })).toString('base64url')
  const body = Buffer.from(JSON.stringify({ sub: 'u' })).toString('base64url')
  t.equal((await app.inject({ url: '/whoami', headers: { authorization: `Bearer ${header}.${body}.c2ln` } })).statusCode, 503)
  t.equal((await app.inject({ url: '/whoami', headers: { authorization: 'Basic abc' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/whoami', headers: { authorization: 'Bearer ' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/whoami', headers: { authorization: 'Bearer not-a-jwt' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource/mcp' })).statusCode, 404, 'metadata not served when asked not to')
  await t.rejects(kit(t, { mode: 'introspection' }), TypeError)
})

t.test('RFC 9728 §3.1: metadata URLs insert the resource path after the well-known prefix', async t => {
  t.equal(metadataUrl('https://team.example/mcp'), 'https://team.example/.well-known/oauth-protected-resource/mcp')
  t.equal(metadataUrl('https://team.example/'), 'https://team.example/.well-known/oauth-protected-resource')
  t.equal(metadataUrl('https://team.example/a/b/'), 'https://team.example/.well-known/oauth-protected-resource/a/b')
})
