// The whole authorization flow with Cognito's own token shapes: cognito-local (a Cognito emulator, a real
// child process) as the upstream, gatehouse on a real loopback port, oauth4webapi as the MCP client.
// cognito-local's quirks (no usable discovery, client_secret_post only, nonce not echoed) are configured on
// the real adapter exactly as an operator would configure explicit endpoints.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { RevokeTokenCommand } from '@aws-sdk/client-cognito-identity-provider'
import { createUpstream } from '../../src/upstream/create-upstream.ts'
import { buildTestApp, freePort } from '../support/app.ts'
import { createCognitoLocalPool, startCognitoLocal } from '../support/cognito-local.ts'
import { formSubmission, loginThroughForm } from '../support/browserless-login.ts'
import { createFakeClock } from '../support/store.ts'
import { postForm } from '../support/oauth-harness.ts'

const CLIENT_REDIRECT = 'http://127.0.0.1:53682/cb'

t.test('login through cognito-local: cognito:groups become groups; upstream refresh near expiry; revoked upstream session ends the grant', async t => {
  const local = await startCognitoLocal()
  t.teardown(() => local.stop())
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const pool = await createCognitoLocalPool(local, {
    callbackUrls: [`${publicUrl}/callback`],
    users: [{ username: 'alice', password: 'Alice-passw0rd!', email: 'alice@example.com', groups: ['engineering', 'admins'] }]
  })
  const clock = createFakeClock()
  const upstreamConfig = {
    issuer: pool.issuer, devIdp: false, clientId: pool.clientId, clientSecret: pool.clientSecret, clientSecretArn: undefined,
    scopes: 'openid email profile', authorizationEndpoint: pool.authorizationEndpoint, tokenEndpoint: pool.tokenEndpoint,
    jwksUri: pool.jwksUri, revocationEndpoint: undefined, timeoutMs: 5000
  }
  const upstream = createUpstream(upstreamConfig, {
    redirectUri: `${publicUrl}/callback`, clientAuthMethod: 'client_secret_post', idTokenWithoutNonce: true,
    cognito: { region: 'local', endpoint: local.endpoint }, now: () => clock.now()
  })
  const { url, app } = await buildTestApp(t, { listen: true, port, clock, services: { upstream }, env: { UPSTREAM_ISSUER: pool.issuer } })

  const opts = { [oauth.allowInsecureRequests]: true } as const
  const issuer = new URL(url)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oauth2' }))
  const client = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }, opts))
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const authUrl = new URL(as.authorization_endpoint as string)
  for (const [k, v] of Object.entries({ client_id: client.client_id, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state })) authUrl.searchParams.set(k, v)
  const { url: redirect } = await loginThroughForm(authUrl, 'alice', 'Alice-passw0rd!', {
    stopAt: CLIENT_REDIRECT,
    onForm: (html, pageUrl) => html.includes('name="decision"') ? formSubmission(html, pageUrl, { button: { name: 'decision', value: 'allow' } }) : undefined
  })
  const params = oauth.validateAuthResponse(as, client, redirect, state)
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CLIENT_REDIRECT, verifier, opts))
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString())
  t.same([...claims.groups].sort(), ['admins', 'engineering'], 'cognito:groups became the groups claim')
  t.equal(claims.email, 'alice@example.com')
  t.equal(claims.aud, `${url}/mcp`)
  t.notOk(JSON.stringify(tokens).includes(pool.clientSecret), 'nothing of the upstream client leaks to the MCP client')

  // Near the upstream token's expiry, a gatehouse refresh also refreshes upstream (cognito-local answers).
  clock.advance(3600 - 60)
  const r1 = await postForm(as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: client.client_id })
  t.equal(r1.status, 200, 'refresh with an upstream refresh succeeds')

  // The user's Cognito session is revoked out of band (the upstream refresh token read from the grant,
  // where it is kept sealed); the next upstream refresh ends the gatehouse grant.
  const gid = JSON.parse(Buffer.from((r1.body.access_token as string).split('.')[1] as string, 'base64url').toString()).gid as string
  const grant = await app.gatehouse.ctx.store.findGrant(gid)
  t.ok(grant?.upstreamSealed, 'upstream tokens are kept on the grant')
  const sealed = JSON.parse(await app.gatehouse.ctx.cipher.open(grant?.upstreamSealed as string, `grant:${gid}`)) as { refreshToken: string, accessToken: string }
  t.notOk(grant?.upstreamSealed?.includes(sealed.accessToken) || grant?.upstreamSealed?.includes(sealed.refreshToken), 'sealed: neither upstream token appears in the stored value')
  await local.client.send(new RevokeTokenCommand({ ClientId: pool.clientId, ClientSecret: pool.clientSecret, Token: sealed.refreshToken }))
  clock.advance(3600)
  const r2 = await postForm(as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token, client_id: client.client_id })
  t.equal(r2.body.error, 'invalid_grant', 'a revoked upstream session ends the grant')
  t.ok((await app.gatehouse.ctx.store.findGrant(gid))?.revokedAt, 'the grant is revoked')
})
