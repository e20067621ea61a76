// The authorization server end to end with a strict client library (oauth4webapi), the real dev IdP
// process, and real HTTP on loopback.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { authorize, exchangeCode, postForm, registerClient, registerResourceServer, startHarness, CLIENT_REDIRECT } from '../support/oauth-harness.ts'

t.test('authorization code + PKCE → tokens; refresh rotates; reuse revokes the family; introspect; revoke', async t => {
  const h = await startHarness(t)
  const pub = await registerClient(h)
  const auth = await authorize(h, pub.client)
  t.equal(auth.redirect.searchParams.get('iss'), h.url, 'RFC 9207 iss')
  t.equal(auth.redirect.searchParams.get('state'), auth.state)
  const tokens = await exchangeCode(h, pub, auth)
  t.equal(tokens.token_type.toLowerCase(), 'bearer')
  t.equal(tokens.scope, 'mcp:read mcp:write', 'default scopes when none was asked for')
  t.ok(tokens.refresh_token)

  const code = auth.redirect.searchParams.get('code') as string
  const replay = await postForm(h.as.token_endpoint as string, { grant_type: 'authorization_code', code, redirect_uri: CLIENT_REDIRECT, code_verifier: auth.verifier, client_id: pub.client.client_id })
  t.equal(replay.status, 400)
  t.equal(replay.body.error, 'invalid_grant', 'a reused code is invalid_grant')

  // The reuse revoked the grant the first redemption produced: its refresh token is dead now.
  const afterReuse = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: pub.client.client_id })
  t.equal(afterReuse.body.error, 'invalid_grant', 'code reuse revoked the tokens issued from it')

  // A fresh grant: rotation and reuse detection.
  const auth2 = await authorize(h, pub.client, { scope: 'mcp:read' })
  const t2 = await exchangeCode(h, pub, auth2)
  t.equal(t2.scope, 'mcp:read')
  const rotated = await oauth.processRefreshTokenResponse(h.as, pub.client, await oauth.refreshTokenGrantRequest(h.as, pub.client, pub.auth, t2.refresh_token as string, h.options))
  t.not(rotated.refresh_token, t2.refresh_token, 'refresh token rotated')
  const reused = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: t2.refresh_token as string, client_id: pub.client.client_id })
  t.equal(reused.body.error, 'invalid_grant')
  const familyGone = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token as string, client_id: pub.client.client_id })
  t.equal(familyGone.body.error, 'invalid_grant', 'reuse revoked the whole family, including the newest token')

  // Introspection needs a confidential client configured as a resource server (DESIGN decision 6).
  const rs = await registerResourceServer(h)
  const auth3 = await authorize(h, pub.client)
  const t3 = await exchangeCode(h, pub, auth3)
  const stranger = await registerClient(h, { token_endpoint_auth_method: 'client_secret_basic' })
  const strangerView = await oauth.processIntrospectionResponse(h.as, stranger.client, await oauth.introspectionRequest(h.as, stranger.client, stranger.auth, t3.access_token, h.options))
  t.equal(strangerView.active, false, 'a self-registered confidential client learns nothing about other clients\' tokens')
  const ownClient = await registerClient(h, { token_endpoint_auth_method: 'client_secret_basic' })
  const ownAuth = await authorize(h, ownClient.client)
  const ownTokens = await exchangeCode(h, ownClient, ownAuth)
  const ownView = await oauth.processIntrospectionResponse(h.as, ownClient.client, await oauth.introspectionRequest(h.as, ownClient.client, ownClient.auth, ownTokens.access_token, h.options))
  t.equal(ownView.active, true, 'a confidential client may introspect its own token')
  const hinted = await postForm(h.as.introspection_endpoint as string, { token: t3.access_token, token_type_hint: 'refresh_token' }, { authorization: `Basic ${Buffer.from(`${rs.client.client_id}:${rs.secret}`).toString('base64')}` })
  t.equal(hinted.body.active, true, 'a wrong token_type_hint does not hide a live token')
  const active = await oauth.processIntrospectionResponse(h.as, rs.client, await oauth.introspectionRequest(h.as, rs.client, rs.auth, t3.access_token, h.options))
  t.equal(active.active, true)
  t.equal(active.client_id, pub.client.client_id)
  t.equal(active.aud, `${h.url}/mcp`)
  const byPublic = await postForm(h.as.introspection_endpoint as string, { token: t3.access_token, client_id: pub.client.client_id })
  t.equal(byPublic.status, 401)
  t.equal(byPublic.body.error, 'invalid_client', 'public clients cannot introspect')

  // Revoking another client's token has no effect; revoking your own ends the grant.
  const other = await postForm(h.as.revocation_endpoint as string, { token: t3.refresh_token as string }, { authorization: `Basic ${Buffer.from(`${rs.client.client_id}:${rs.secret}`).toString('base64')}` })
  t.equal(other.status, 200)
  const stillActive = await oauth.processIntrospectionResponse(h.as, rs.client, await oauth.introspectionRequest(h.as, rs.client, rs.auth, t3.access_token, h.options))
  t.equal(stillActive.active, true, 'another client cannot revoke it')
  const revoked = await postForm(h.as.revocation_endpoint as string, { token: t3.refresh_token as string, client_id: pub.client.client_id })
  t.equal(revoked.status, 200)
  const inactive = await oauth.processIntrospectionResponse(h.as, rs.client, await oauth.introspectionRequest(h.as, rs.client, rs.auth, t3.access_token, h.options))
  t.equal(inactive.active, false, 'the access token of a revoked grant is inactive')
  const unknown = await postForm(h.as.revocation_endpoint as string, { token: 'nonsense', client_id: pub.client.client_id })
  t.equal(unknown.status, 200, 'RFC 7009: unknown tokens answer 200')
})

t.test('confidential client: client_secret_basic and client_secret_post; wrong secret is invalid_client', async t => {
  const h = await startHarness(t)
  for (const method of ['client_secret_basic', 'client_secret_post']) {
    const c = await registerClient(h, { token_endpoint_auth_method: method })
    const a = await authorize(h, c.client)
    const tokens = await exchangeCode(h, c, a)
    t.ok(tokens.access_token, method)
  }
  const c = await registerClient(h, { token_endpoint_auth_method: 'client_secret_basic' })
  const a = await authorize(h, c.client)
  const bad = await postForm(h.as.token_endpoint as string, { grant_type: 'authorization_code', code: a.redirect.searchParams.get('code') as string, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier }, { authorization: `Basic ${Buffer.from(`${c.client.client_id}:wrong`).toString('base64')}` })
  t.equal(bad.status, 401)
  t.equal(bad.body.error, 'invalid_client')
  t.match(bad.headers.get('www-authenticate') ?? '', /^Basic/)
  // DESIGN decision 3: the failed attempt left the code usable.
  const good = await exchangeCode(h, c, a)
  t.ok(good.access_token, 'the code survived a request that failed validation')
})

t.test('deny on the consent page returns access_denied with state and iss', async t => {
  const h = await startHarness(t)
  const c = await registerClient(h)
  const a = await authorize(h, c.client, { decision: 'deny' })
  t.equal(a.redirect.searchParams.get('error'), 'access_denied')
  t.equal(a.redirect.searchParams.get('state'), a.state)
  t.equal(a.redirect.searchParams.get('iss'), h.url)
})

t.test('token errors: wrong verifier, wrong redirect_uri, code of another client → invalid_grant; the code stays usable', async t => {
  const h = await startHarness(t)
  const c = await registerClient(h)
  const other = await registerClient(h)
  const a = await authorize(h, c.client)
  const code = a.redirect.searchParams.get('code') as string
  const base = { grant_type: 'authorization_code', code, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier, client_id: c.client.client_id }
  const cases: Array<[string, Record<string, string>, string]> = [
    ['wrong verifier', { ...base, code_verifier: oauth.generateRandomCodeVerifier() }, 'invalid_grant'],
    ['wrong redirect_uri', { ...base, redirect_uri: 'http://127.0.0.1:53682/other' }, 'invalid_grant'],
    ['another client', { ...base, client_id: other.client.client_id }, 'invalid_grant'],
    ['wrong resource', { ...base, resource: 'https://evil.example/mcp' }, 'invalid_target'],
    ['missing verifier', { grant_type: 'authorization_code', code, redirect_uri: CLIENT_REDIRECT, client_id: c.client.client_id }, 'invalid_request'],
    ['unknown grant type', { ...base, grant_type: 'password' }, 'unsupported_grant_type']
  ]
  for (const [name, fields, error] of cases) {
    const res = await postForm(h.as.token_endpoint as string, fields)
    t.equal(res.body.error, error, name)
    t.equal(res.headers.get('cache-control'), 'no-store', `${name}: no-store`)
  }
  const ok = await exchangeCode(h, c, a)
  t.ok(ok.access_token, 'after all those failures the code still works once')
})

t.test('OAuth 2.1 §4.1.3: redirect_uri at /token is required exactly when the authorization request sent it', async t => {
  const h = await startHarness(t)
  const c = await registerClient(h)
  const omitted = await authorize(h, c.client, { omitRedirectUri: true })
  const code = omitted.redirect.searchParams.get('code') as string
  t.ok(code, 'the single registered redirect URI was used')
  const ok = await postForm(h.as.token_endpoint as string, { grant_type: 'authorization_code', code, code_verifier: omitted.verifier, client_id: c.client.client_id })
  t.equal(ok.status, 200, 'no redirect_uri needed at /token')
  const sent = await authorize(h, c.client)
  const missing = await postForm(h.as.token_endpoint as string, { grant_type: 'authorization_code', code: sent.redirect.searchParams.get('code') as string, code_verifier: sent.verifier, client_id: c.client.client_id })
  t.equal(missing.body.error, 'invalid_request', 'sent at /authorize → required at /token')
})
