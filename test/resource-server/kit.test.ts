// gatehouse/resource-server in a separate process (issue 14, part 3): JWKS mode accepts gatehouse's tokens for
// its own resource and refuses foreign audiences; introspection mode with cache 0 sees a revocation on the
// next request; the same plugin verifies the gateway's backend JWTs; challenges point at the server's own
// RFC 9728 metadata.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as oauth from 'oauth4webapi'
import { CLIENT_REDIRECT, authorize, registerClient, registerResourceServer, startHarness, postForm, type Harness, type RegisteredClient } from '../support/oauth-harness.ts'
import { freePort } from '../support/net.ts'

const SCRIPT = fileURLToPath(new URL('../support/resource-server-process.ts', import.meta.url))

async function startKit (t: Test, port: number, options: Record<string, unknown>): Promise<string> {
  // In this repository the export resolves to the source (the gatehouse-source condition); the built package is test/resource-server/package.test.ts.
  const child = spawn(process.execPath, ['--conditions=gatehouse-source', SCRIPT], { env: { ...process.env, KIT_PORT: String(port), KIT_OPTIONS: JSON.stringify(options) }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(async () => { if (child.exitCode === null) { const exited = new Promise(resolve => child.once('exit', resolve)); child.kill('SIGTERM'); await exited } })
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', code => reject(new Error(`the kit process exited (${String(code)})`)))
  })
  return `http://127.0.0.1:${port}`
}

async function tokensFor (h: Harness, registered: RegisteredClient, resource: string): Promise<oauth.TokenEndpointResponse> {
  const result = await authorize(h, registered.client, { extra: { resource } })
  const params = oauth.validateAuthResponse(h.as, registered.client, result.redirect, result.state)
  const response = await oauth.authorizationCodeGrantRequest(h.as, registered.client, registered.auth, params, CLIENT_REDIRECT, result.verifier, { ...h.options, additionalParameters: { resource } })
  return await oauth.processAuthorizationCodeResponse(h.as, registered.client, response)
}

const get = async (url: string, token?: string): Promise<Response> => await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })

t.test('the kit by JWKS, by introspection, and behind the gateway', async t => {
  const [jwksPort, introPort, backendPort] = await Promise.all([freePort(), freePort(), freePort()])
  const jwksResource = `http://127.0.0.1:${jwksPort}/mcp`
  const introResource = `http://127.0.0.1:${introPort}/mcp`
  const h = await startHarness(t, {
    env: {
      GATEHOUSE_BACKENDS: JSON.stringify({
        jwks: { url: jwksResource, mode: 'direct', title: 'Team server' },
        intro: { url: introResource, mode: 'direct' },
        team: { url: `http://127.0.0.1:${backendPort}/mcp` }
      })
    }
  })
  const rs = await registerResourceServer(h)
  const jwksKit = await startKit(t, jwksPort, { resource: jwksResource, issuer: h.url, scopes: ['mcp:read', 'mcp:write'], resourceName: 'Team server' })
  const introKit = await startKit(t, introPort, { resource: introResource, issuer: h.url, mode: 'introspection', introspection: { clientId: rs.client.client_id, clientSecret: rs.secret, cacheSeconds: 0 } })
  const backendKit = await startKit(t, backendPort, { resource: `http://127.0.0.1:${backendPort}/mcp`, issuer: h.url })
  const registered = await registerClient(h)

  await t.test('direct resources get tokens but no gateway route at gatehouse', async t => {
    t.equal((await fetch(`${h.url}/mcp/jwks`, { method: 'POST' })).status, 404)
    t.equal((await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/jwks`)).status, 404)
  })

  await t.test('JWKS mode: its own tokens in, foreign audiences and bad tokens out, challenges name its own metadata', async t => {
    const own = await tokensFor(h, registered, jwksResource)
    const whoami = await get(`${jwksKit}/whoami`, own.access_token)
    t.equal(whoami.status, 200)
    t.match(await whoami.json(), { sub: '6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01', email: 'alice@example.com', clientId: registered.client.client_id, scopes: ['mcp:read', 'mcp:write'], groups: ['engineering', 'admins'] })
    const metadata = await (await get(`${jwksKit}/.well-known/oauth-protected-resource/mcp`)).json() as Record<string, unknown>
    t.match(metadata, { resource: jwksResource, authorization_servers: [h.url], scopes_supported: ['mcp:read', 'mcp:write'], resource_name: 'Team server' })
    const none = await get(`${jwksKit}/whoami`)
    t.equal(none.status, 401)
    t.equal(none.headers.get('www-authenticate'), `Bearer scope="mcp:read mcp:write", resource_metadata="${jwksKit}/.well-known/oauth-protected-resource/mcp"`)
    const foreign = await tokensFor(h, registered, `${h.url}/mcp`)
    const refused = await get(`${jwksKit}/whoami`, foreign.access_token)
    t.equal(refused.status, 401, 'a token for gatehouse\'s /mcp is refused')
    t.match(refused.headers.get('www-authenticate'), /^Bearer error="invalid_token".*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/)
    t.equal((await get(`${jwksKit}/whoami`, `${own.access_token.slice(0, -4)}AAAA`)).status, 401, 'a bad signature')
    t.equal((await get(`${jwksKit}/whoami`, 'x'.repeat(9000))).status, 401, 'oversized')
    const admin = await fetch(`${jwksKit}/admin`, { method: 'POST', headers: { authorization: `Bearer ${own.access_token}` } })
    t.equal(admin.status, 403)
    t.match(admin.headers.get('www-authenticate'), /error="insufficient_scope".*scope="mcp:read mcp:write mcp:admin"/)
    t.equal((await fetch(`${jwksKit}/admin`, { method: 'POST' })).status, 401, 'no token: 401 before the scope check')
  })

  await t.test('introspection mode with cache 0: active tokens in, a revocation seen on the next request', async t => {
    const own = await tokensFor(h, registered, introResource)
    t.equal((await get(`${introKit}/whoami`, own.access_token)).status, 200)
    const foreign = await tokensFor(h, registered, jwksResource)
    t.equal((await get(`${introKit}/whoami`, foreign.access_token)).status, 401, 'active, but for another resource')
    t.equal((await get(`${introKit}/whoami`, own.refresh_token)).status, 401, 'a refresh token is no access token')
    await postForm(`${h.url}/revoke`, { token: own.access_token, client_id: registered.client.client_id })
    const after = await get(`${introKit}/whoami`, own.access_token)
    t.equal(after.status, 401, 'revoked: refused at once')
    t.match(after.headers.get('www-authenticate'), /error="invalid_token"/)
  })

  await t.test('behind the gateway: the kit verifies the backend JWT, which names the user and the client', async t => {
    const token = (await tokensFor(h, registered, `${h.url}/mcp/team`)).access_token
    const response = await fetch(`${h.url}/mcp/team`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }) })
    t.equal(response.status, 200)
    t.match(await response.json(), { id: 5, result: { auth: { sub: '6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01', clientId: registered.client.client_id, actor: registered.client.client_id } } })
    t.equal((await get(`${backendKit}/whoami`, token)).status, 401, 'the client\'s own token is not for the backend')
  })
})
