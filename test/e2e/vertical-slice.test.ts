// The whole path on real parts: the official MCP SDK client starts from the /mcp URL, gets the 401,
// discovers the resource and the authorization server, registers, sends "the browser" through consent and
// the development IdP's login (a real child process), and calls whoami as alice.
import t from 'tap'
import { buildTestApp, freePort } from '../support/app.ts'
import { startDevIdpProcess } from '../support/dev-idp.ts'
import { TestOAuthProvider, connectWithOAuth, formWalker } from '../support/mcp-oauth-client.ts'

t.test('MCP client → 401 → discovery → registration → consent → IdP login → token → whoami', async t => {
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const idp = await startDevIdpProcess({ redirectUris: [`${publicUrl}/callback`] })
  t.teardown(() => idp.stop())
  const { url } = await buildTestApp(t, {
    listen: true,
    port,
    env: { UPSTREAM_ISSUER: idp.issuer, UPSTREAM_CLIENT_ID: idp.clientId, UPSTREAM_CLIENT_SECRET: idp.clientSecret }
  })

  const unauthenticated = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })
  t.equal(unauthenticated.status, 401)
  t.equal(unauthenticated.headers.get('www-authenticate')?.includes(`resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`), true)

  const provider = new TestOAuthProvider(formWalker('alice', 'alice'))
  const client = await connectWithOAuth(`${url}/mcp`, provider)
  t.teardown(() => client.close())

  const redirect = provider.lastRedirect as URL
  t.equal(redirect.searchParams.get('iss'), url, 'RFC 9207 iss on the authorization response')
  const authorizationUrl = provider.authorizationUrls[0] as URL
  t.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256')
  t.equal(authorizationUrl.searchParams.get('resource'), `${url}/mcp`, 'the SDK sends the RFC 8707 resource')
  const tokens = provider.tokens()
  t.ok(tokens?.access_token)
  t.ok(tokens?.refresh_token, 'a refresh token for the public client')

  const result = await client.callTool({ name: 'whoami', arguments: {} })
  const text = (result.content as Array<{ type: string, text: string }>)[0]?.text ?? ''
  const identity = JSON.parse(text)
  t.equal(identity.email, 'alice@example.com')
  t.same([...identity.groups].sort(), ['admins', 'engineering'])
  t.match(identity.scopes, ['mcp:read'])
  t.equal(identity.client_id ?? identity.clientId, provider.clientInformation()?.client_id)
})
