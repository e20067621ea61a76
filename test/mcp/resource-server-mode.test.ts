// Resource-server-only mode (GATEHOUSE_MODE=resource-server): /mcp accepts access tokens from the trusted
// issuers only, verified with their JWKS (@fastify/jwt + get-jwks), issuers, RS256 and audience/client_id
// pinned. A local issuer signs Cognito-shaped tokens; the development IdP provides a real one.
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { buildMcpApp, callTool, post, rpc, toolJson } from './helpers.ts'
import { startDevIdpProcess } from '../support/dev-idp.ts'
import { UPSTREAM_REDIRECT_URI, upstreamLogin } from './upstream.ts'

interface LocalIssuer { issuer: string, kid: string, key: KeyObject, publicPem: string, jwksFetches: number, close (): Promise<void> }

/** A Cognito-like issuer: discovery document and JWKS on loopback, counting JWKS fetches. */
async function startIssuer (t: Test): Promise<LocalIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = randomUUID()
  const state = { jwksFetches: 0 }
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/.well-known/openid-configuration') { res.end(JSON.stringify({ issuer: issuerUrl, jwks_uri: `${issuerUrl}/.well-known/jwks.json` })); return }
    if (req.url === '/.well-known/jwks.json') { state.jwksFetches++; res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] })); return }
    res.statusCode = 404; res.end('{}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const issuerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer: LocalIssuer = {
    issuer: issuerUrl, kid, key: privateKey, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    get jwksFetches () { return state.jwksFetches },
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
  t.teardown(() => issuer.close())
  return issuer
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function cognitoAccessToken (issuer: LocalIssuer, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'RS256', kid: issuer.kid, ...header })}.${b64({
    iss: issuer.issuer, sub: 'cognito-sub-1', client_id: 'app-client-1', token_use: 'access', scope: 'openid gatehouse/mcp:read',
    'cognito:groups': ['engineering'], username: 'carol', iat: now, exp: now + 600, jti: randomUUID(), ...claims
  })}`
  return `${input}.${sign('sha256', Buffer.from(input), issuer.key).toString('base64url')}`
}

async function rsApp (t: Test, issuers: string[], audiences = 'app-client-1') {
  return await buildMcpApp(t, { env: { GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: issuers.join(','), TRUSTED_AUDIENCES: audiences, UPSTREAM_TIMEOUT_MS: '1000', DOWNSTREAM_URL: 'http://127.0.0.1:9/api' } })
}

t.test('a trusted issuer\'s Cognito access token: groups from cognito:groups, scopes from scope (resource-server prefix dropped)', async t => {
  const issuer = await startIssuer(t)
  const { app, config } = await rsApp(t, [issuer.issuer])
  const token = cognitoAccessToken(issuer)
  const me = toolJson((await callTool(app, token, 'whoami')).json())
  t.same(me, { sub: 'cognito-sub-1', email: null, groups: ['engineering'], scopes: ['openid', 'mcp:read'], client_id: 'app-client-1' })
  const tools = (await post(app, token, rpc('tools/list'))).json().result.tools.map((x: { name: string }) => x.name).sort()
  t.same(tools, ['query_data', 'whoami'], 'no call_downstream: no upstream tokens to use, and no passthrough')
  const write = await callTool(app, token, 'add_record', { id: 'r-1', title: 't', category: 'x', value: 1 })
  t.equal(write.statusCode, 403, 'insufficient_scope works the same in this mode')
  t.match(write.headers['www-authenticate'], /scope="mcp:read mcp:write"/)
  const prm = (await app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' })).json()
  t.same(prm.authorization_servers, [issuer.issuer], 'RFC 9728: the trusted issuers are the authorization servers')
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).statusCode, 404, 'no AS endpoints in this mode')
  void config
})

t.test('JWK → PEM is cached per kid: many requests, one JWKS fetch', async t => {
  const issuer = await startIssuer(t)
  const { app } = await rsApp(t, [issuer.issuer])
  for (let i = 0; i < 20; i++) t.equal((await post(app, cognitoAccessToken(issuer), rpc('tools/list'))).statusCode, 200)
  t.equal(issuer.jwksFetches, 1)
})

t.test('forged tokens with random kids cause at most one JWKS lookup per issuer per backoff window', async t => {
  const issuer = await startIssuer(t)
  const { app } = await rsApp(t, [issuer.issuer])
  const results = await Promise.all(Array.from({ length: 20 }, () => post(app, cognitoAccessToken(issuer, {}, { kid: randomUUID() }), rpc('tools/list'))))
  t.ok(results.every(r => r.statusCode === 401), 'all refused')
  t.ok(issuer.jwksFetches <= 1, `JWKS fetched ${issuer.jwksFetches} time(s) for 20 random kids`)
})

t.test('pinned issuer, algorithm, audience/client_id and token use: everything else is 401 invalid_token', async t => {
  const trusted = await startIssuer(t)
  const other = await startIssuer(t)
  const { app } = await rsApp(t, [trusted.issuer])
  const hsInput = `${b64({ alg: 'HS256', kid: trusted.kid })}.${b64({ iss: trusted.issuer, sub: 'x', client_id: 'app-client-1', token_use: 'access', scope: 'mcp:read', exp: Math.floor(Date.now() / 1000) + 600 })}`
  const cases: Record<string, string> = {
    'untrusted issuer': cognitoAccessToken(other, { iss: other.issuer }),
    'untrusted issuer claiming the trusted one (other key)': cognitoAccessToken(other, { iss: trusted.issuer }, { kid: trusted.kid }),
    'another app client': cognitoAccessToken(trusted, { client_id: 'someone-else' }),
    'an ID token': cognitoAccessToken(trusted, { token_use: 'id', aud: 'app-client-1', client_id: undefined }),
    expired: cognitoAccessToken(trusted, { exp: Math.floor(Date.now() / 1000) - 3600 }),
    'unknown kid': cognitoAccessToken(trusted, {}, { kid: 'nope' }),
    'HS256 keyed with the public key (algorithm confusion)': `${hsInput}.${createHmac('sha256', trusted.publicPem).update(hsInput).digest('base64url')}`,
    'alg none': `${b64({ alg: 'none', kid: trusted.kid })}.${b64({ iss: trusted.issuer, sub: 'x', client_id: 'app-client-1', exp: Math.floor(Date.now() / 1000) + 600 })}.`
  }
  for (const [name, token] of Object.entries(cases)) {
    const res = await post(app, token, rpc('tools/list'))
    t.equal(res.statusCode, 401, name)
    t.match(res.headers['www-authenticate'], /^Bearer error="invalid_token"/, name)
  }
})

t.test('an unreachable JWKS is 401 invalid_token, never 500', async t => {
  const issuer = await startIssuer(t)
  const token = cognitoAccessToken(issuer)
  await issuer.close()
  const { app } = await rsApp(t, [issuer.issuer])
  const res = await post(app, token, rpc('tools/list'))
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('the development IdP as trusted issuer: its real access token is verified through discovery and JWKS', async t => {
  const idp = await startDevIdpProcess({ redirectUris: [UPSTREAM_REDIRECT_URI] })
  t.teardown(() => idp.stop())
  const { app } = await rsApp(t, [idp.issuer], idp.clientId)
  const { accessToken, idToken } = await upstreamLogin(idp, 'alice')
  const list = await post(app, accessToken, rpc('tools/list'))
  t.equal(list.statusCode, 200, 'accepted')
  t.same(list.json().result.tools, [], 'its scopes (openid email profile) grant no MCP tool')
  const call = await callTool(app, accessToken, 'whoami')
  t.equal(call.statusCode, 403)
  t.match(call.headers['www-authenticate'], /insufficient_scope/)
  t.equal((await post(app, idToken!, rpc('tools/list'))).statusCode, 401, 'its ID token is refused')
})
