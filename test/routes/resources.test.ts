// Several protected resources on one authorization server (RFC 8707, RFC 9728): every backend of
// GATEHOUSE_BACKENDS is the resource <public>/mcp/<name> with its own metadata, the consent page names the
// resource, tokens carry it as their only audience, refresh keeps it, and /mcp refuses tokens for another one.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { CLIENT_REDIRECT, authorize, registerClient, registerResourceServer, startHarness, postForm, type Harness, type RegisteredClient } from '../support/oauth-harness.ts'

const BACKENDS = JSON.stringify({ everything: { url: 'http://127.0.0.1:9/mcp', title: 'Everything server' }, jira: { url: 'https://jira-mcp.example/mcp' } })

function claimsOf (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'))
}

async function tokensFor (h: Harness, registered: RegisteredClient, resource: string, tokenResource: string | undefined = resource): Promise<oauth.TokenEndpointResponse> {
  const result = await authorize(h, registered.client, { extra: { resource } })
  const params = oauth.validateAuthResponse(h.as, registered.client, result.redirect, result.state)
  const response = await oauth.authorizationCodeGrantRequest(h.as, registered.client, registered.auth, params, CLIENT_REDIRECT, result.verifier, { ...h.options, ...(tokenResource === undefined ? {} : { additionalParameters: { resource: tokenResource } }) })
  return await oauth.processAuthorizationCodeResponse(h.as, registered.client, response)
}

t.test('RFC 9728 §3.1: each backend has protected-resource metadata at its inserted path; an unknown name is 404', async t => {
  const h = await startHarness(t, { env: { GATEHOUSE_BACKENDS: BACKENDS } })
  const prm = await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/everything`)).json() as Record<string, unknown>
  t.match(prm, { resource: `${h.url}/mcp/everything`, authorization_servers: [h.url], resource_name: 'Everything server', bearer_methods_supported: ['header'] })
  const jira = await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/jira`)).json() as Record<string, unknown>
  t.equal(jira.resource, `${h.url}/mcp/jira`)
  t.equal(jira.resource_name, 'jira', 'the name when there is no title')
  const root = await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp`)).json() as Record<string, unknown>
  t.equal(root.resource, `${h.url}/mcp`, 'the built-in tools stay at /mcp')
  const unknown = await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp/nope`)
  t.equal(unknown.status, 404)
  t.equal((await unknown.json() as { error: string }).error, 'not_found')
})

t.test('RFC 8707: resource at /authorize selects the backend; the consent page names it; the token is for it alone', async t => {
  const h = await startHarness(t, { env: { GATEHOUSE_BACKENDS: BACKENDS } })
  const registered = await registerClient(h)
  const resource = `${h.url}/mcp/everything`

  // The consent page says which resource the client asks for.
  const url = new URL(h.as.authorization_endpoint as string)
  for (const [k, v] of Object.entries({ client_id: registered.client.client_id, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource })) url.searchParams.set(k, v)
  const page = await (await fetch(url)).text()
  t.match(page, /Access to <strong>Everything server<\/strong> \(<code>http:\/\/127\.0\.0\.1:\d+\/mcp\/everything<\/code>\) only/)
  url.searchParams.delete('resource')
  t.match(await (await fetch(url)).text(), /Access to <strong>gatehouse MCP tools<\/strong>/, 'no resource: the built-in tools')

  const tokens = await tokensFor(h, registered, resource)
  t.equal(claimsOf(tokens.access_token).aud, resource, 'aud is the backend resource')
  const withoutResource = await tokensFor(h, registered, resource, undefined)
  t.equal(claimsOf(withoutResource.access_token).aud, resource, 'RFC 8707 §2.2: /token without resource gets what /authorize named')

  const atMcp = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })
  t.equal(atMcp.status, 401, 'a backend token is refused at /mcp')
  t.match(atMcp.headers.get('www-authenticate'), /error="invalid_token"/)

  const other = await tokensFor(h, registered, resource, `${h.url}/mcp/jira`).catch((error: unknown) => error)
  t.match(other, { error: 'invalid_target' }, 'RFC 8707 §2.2: a code for one resource cannot buy a token for another')
  const unknown = await postForm(`${h.url}/token`, { grant_type: 'authorization_code', code: 'x', code_verifier: 'v'.repeat(43), redirect_uri: CLIENT_REDIRECT, client_id: registered.client.client_id, resource: `${h.url}/mcp/nope` })
  t.equal(unknown.body.error, 'invalid_grant', 'an unknown code is refused before anything else')

  // Introspection by a resource server sees the audience.
  const rs = await registerResourceServer(h)
  const introspected = await postForm(`${h.url}/introspect`, { token: tokens.access_token }, { authorization: `Basic ${Buffer.from(`${rs.client.client_id}:${rs.secret as string}`).toString('base64')}` })
  t.match(introspected.body, { active: true, aud: resource })
})

t.test('refresh keeps the audience: without resource, with the same one; another resource is invalid_target (RFC 8707 §2.2)', async t => {
  const h = await startHarness(t, { env: { GATEHOUSE_BACKENDS: BACKENDS } })
  const registered = await registerClient(h)
  const resource = `${h.url}/mcp/jira`
  const first = await tokensFor(h, registered, resource)
  const refresh = async (token: string, extra?: Record<string, string>): Promise<oauth.TokenEndpointResponse> =>
    await oauth.processRefreshTokenResponse(h.as, registered.client, await oauth.refreshTokenGrantRequest(h.as, registered.client, registered.auth, token, { ...h.options, ...(extra === undefined ? {} : { additionalParameters: extra }) }))
  const second = await refresh(first.refresh_token as string)
  t.equal(claimsOf(second.access_token).aud, resource, 'no resource: the grant\'s')
  const third = await refresh(second.refresh_token as string, { resource })
  t.equal(claimsOf(third.access_token).aud, resource, 'the same resource')
  const other = await postForm(`${h.url}/token`, { grant_type: 'refresh_token', refresh_token: third.refresh_token as string, client_id: registered.client.client_id, resource: `${h.url}/mcp` })
  t.equal(other.status, 400)
  t.equal(other.body.error, 'invalid_target', 'the /mcp resource is not this grant\'s')
  const foreign = await postForm(`${h.url}/token`, { grant_type: 'refresh_token', refresh_token: third.refresh_token as string, client_id: registered.client.client_id, resource: 'https://evil.example/mcp' })
  t.equal(foreign.body.error, 'invalid_target')
})

t.test('remembered consent is per resource: approving /mcp does not approve a backend', async t => {
  const h = await startHarness(t, { env: { GATEHOUSE_BACKENDS: BACKENDS } })
  const registered = await registerClient(h)
  const first = await authorize(h, registered.client)
  t.ok(first.redirect.searchParams.get('code'), 'consented to /mcp')
  let sawConsent = false
  const { loginThroughForm, formSubmission } = await import('../support/browserless-login.ts')
  const url = new URL(h.as.authorization_endpoint as string)
  for (const [k, v] of Object.entries({ client_id: registered.client.client_id, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: `${h.url}/mcp/everything` })) url.searchParams.set(k, v)
  await loginThroughForm(url, 'alice', 'alice', {
    stopAt: CLIENT_REDIRECT,
    cookies: first.cookies,
    headers: { 'sec-fetch-site': 'none' },
    onForm: (html, pageUrl) => {
      if (!html.includes('name="decision"')) return undefined
      sawConsent = true
      return formSubmission(html, pageUrl, { button: { name: 'decision', value: 'allow' } })
    }
  })
  t.ok(sawConsent, 'the backend asks for consent again')
})
