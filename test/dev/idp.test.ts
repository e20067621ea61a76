// The development IdP, black-box: a real child process on loopback, driven with plain HTTP.
import t from 'tap'
import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto'
import { startDevIdpProcess } from '../support/dev-idp.ts'
import { loginThroughForm, BrowserlessLoginError } from '../support/browserless-login.ts'

const REDIRECT_URI = 'http://127.0.0.1:9/callback'
const idp = await startDevIdpProcess({ redirectUris: [REDIRECT_URI] })
t.teardown(() => idp.stop())

const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown> & {
  authorization_endpoint: string, token_endpoint: string, jwks_uri: string, revocation_endpoint: string
}
const jwks = await (await fetch(discovery.jwks_uri)).json() as { keys: Array<JsonWebKey & { kid: string, alg: string }> }
const basic = `Basic ${Buffer.from(`${encodeURIComponent(idp.clientId)}:${encodeURIComponent(idp.clientSecret)}`).toString('base64')}`

interface Jwt { header: Record<string, unknown>, payload: Record<string, unknown> }

/** Decodes a JWT after checking its RS256 signature against the IdP's JWKS. */
function verifiedJwt (token: string): Jwt {
  const [h = '', p = '', s = ''] = token.split('.')
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid?: string, alg?: string }
  const jwk = jwks.keys.find(k => k.kid === header.kid)
  if (jwk === undefined || header.alg !== 'RS256') throw new Error(`no RS256 key ${header.kid}`)
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'))
  if (!ok) throw new Error('bad signature')
  return { header, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) }
}

function authorizationRequest (extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url')
  const state = randomBytes(16).toString('base64url')
  const nonce = randomBytes(16).toString('base64url')
  const url = new URL(discovery.authorization_endpoint)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: idp.clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra
  }).toString()
  return { url, verifier, state, nonce }
}

async function tokenRequest (params: Record<string, string>) {
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params)
  })
  return { status: response.status, body: await response.json() as Record<string, string | number> }
}

async function login (username: string, password: string) {
  const request = authorizationRequest()
  const { url: callback } = await loginThroughForm(request.url, username, password, { stopAt: REDIRECT_URI })
  const code = callback.searchParams.get('code') ?? ''
  const tokens = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier })
  return { request, callback, tokens }
}

t.test('discovery document describes an OIDC code + PKCE (S256 only) provider with revocation', async t => {
  t.equal(discovery.issuer, idp.issuer)
  t.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.same(discovery.code_challenge_methods_supported, ['S256'])
  t.same(discovery.response_types_supported, ['code'])
  t.ok((discovery.grant_types_supported as string[]).includes('refresh_token'))
  t.equal(discovery.revocation_endpoint, `${idp.issuer}/token/revocation`)
})

t.test('JWKS publishes an RS256 signing key', async t => {
  t.ok(jwks.keys.length >= 1)
  t.match(jwks.keys[0], { kty: 'RSA', alg: 'RS256', use: 'sig', kid: String })
  t.notOk('d' in (jwks.keys[0] ?? {}), 'no private part')
})

t.test('login page: own HTML form, never framed', async t => {
  const response = await fetch(authorizationRequest().url, { redirect: 'manual' })
  t.equal(response.status, 303)
  const interaction = new URL(response.headers.get('location') ?? '', idp.issuer)
  const page = await fetch(interaction, { headers: { cookie: response.headers.getSetCookie().map(c => c.split(';')[0]).join('; ') } })
  const html = await page.text()
  t.equal(page.status, 200)
  t.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/)
  t.match(html, /<input[^>]*name="username"/)
  t.match(html, /<input[^>]*name="password"[^>]*type="password"/)
  t.match(html, /<button type="submit"/)
})

t.test('code + PKCE flow for alice: ID token has Cognito claims, access token is a Cognito-shaped JWT', async t => {
  const { request, callback, tokens } = await login('alice', 'alice')
  t.equal(callback.searchParams.get('state'), request.state)
  t.equal(callback.searchParams.get('iss'), idp.issuer, 'RFC 9207 iss in the authorization response')
  t.equal(tokens.status, 200)
  t.equal(tokens.body.token_type, 'Bearer')
  t.type(tokens.body.refresh_token, 'string', 'refresh token without offline_access, as Cognito does')

  const id = verifiedJwt(String(tokens.body.id_token)).payload
  t.match(id, {
    iss: idp.issuer,
    aud: idp.clientId,
    nonce: request.nonce,
    email: 'alice@example.com',
    email_verified: true,
    'cognito:username': 'alice',
    token_use: 'id'
  })
  t.match(id.sub, /^[0-9a-f-]{36}$/)
  t.same(id['cognito:groups'], ['engineering', 'admins'])

  const access = verifiedJwt(String(tokens.body.access_token))
  t.match(access.payload, { iss: idp.issuer, sub: id.sub, client_id: idp.clientId, token_use: 'access', username: 'alice' })
  t.same(access.payload['cognito:groups'], ['engineering', 'admins'])
  t.match(access.payload.scope, /\bopenid\b/)
  t.type(access.payload.exp, 'number')
  t.equal(access.payload.aud, `${idp.issuer}/resource`, 'the default resource (gatehouse sends none)')
  t.equal(access.header.typ, 'at+jwt')
})

t.test('bob has no groups: cognito:groups is omitted from both tokens', async t => {
  const { tokens } = await login('bob', 'bob')
  const id = verifiedJwt(String(tokens.body.id_token)).payload
  t.equal(id['cognito:username'], 'bob')
  t.equal(id.email, 'bob@example.com')
  t.notOk('cognito:groups' in id)
  t.notOk('cognito:groups' in verifiedJwt(String(tokens.body.access_token)).payload)
})

t.test('wrong password re-renders the login page with 401 and issues no code', async t => {
  const error = await loginThroughForm(authorizationRequest().url, 'alice', 'not-alice', { stopAt: REDIRECT_URI }).then(() => undefined, (e: unknown) => e)
  t.type(error, BrowserlessLoginError)
  t.equal((error as BrowserlessLoginError).status, 401)
  t.match((error as BrowserlessLoginError).body, /Incorrect username or password/)
  t.match((error as BrowserlessLoginError).body, /value="alice"/, 'username kept, password not')
})

t.test('PKCE is required: an authorization request without code_challenge is refused', async t => {
  const { url } = authorizationRequest()
  url.searchParams.delete('code_challenge')
  url.searchParams.delete('code_challenge_method')
  const response = await fetch(url, { redirect: 'manual' })
  const location = new URL(response.headers.get('location') ?? '', idp.issuer)
  t.equal(location.origin + location.pathname, REDIRECT_URI)
  t.equal(location.searchParams.get('error'), 'invalid_request')
  t.match(location.searchParams.get('error_description'), /PKCE/)
})

t.test('a wrong code_verifier is refused with invalid_grant', async t => {
  const request = authorizationRequest()
  const { url: callback } = await loginThroughForm(request.url, 'alice', 'alice', { stopAt: REDIRECT_URI })
  const tokens = await tokenRequest({ grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, code_verifier: randomBytes(32).toString('base64url') })
  t.equal(tokens.status, 400)
  t.equal(tokens.body.error, 'invalid_grant')
})

t.test('refresh works; after revocation the refresh token fails with invalid_grant', async t => {
  const { tokens } = await login('alice', 'alice')
  const refreshToken = String(tokens.body.refresh_token)

  const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken })
  t.equal(refreshed.status, 200)
  t.equal(verifiedJwt(String(refreshed.body.access_token)).payload.token_use, 'access')
  t.equal(refreshed.body.refresh_token ?? refreshToken, refreshToken, 'not rotated, as Cognito does not rotate by default')

  const revoked = await fetch(discovery.revocation_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' })
  })
  t.equal(revoked.status, 200)

  const after = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken })
  t.equal(after.status, 400)
  t.equal(after.body.error, 'invalid_grant')
})

t.test('refuses to start inside AWS Lambda', async t => {
  const lambdaEnv = {
    PATH: process.env.PATH,
    AWS_LAMBDA_FUNCTION_NAME: 'gatehouse',
    GATEHOUSE_PUBLIC_URL: 'https://gatehouse.example.com',
    UPSTREAM_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
    KMS_SIGNING_KEY_ID: 'alias/sign',
    KMS_ENCRYPTION_KEY_ID: 'alias/enc',
    COOKIE_SECRET: 'x'.repeat(32)
  }
  await t.rejects(startDevIdpProcess({ redirectUris: [REDIRECT_URI], env: lambdaEnv }), /exited \(code 1\)[\s\S]*refusing to start inside AWS Lambda/)
  // Even with a configuration that is invalid in Lambda it never gets as far as listening.
  await t.rejects(startDevIdpProcess({ redirectUris: [REDIRECT_URI], env: { PATH: process.env.PATH, AWS_LAMBDA_FUNCTION_NAME: 'gatehouse' } }), /exited \(code 1\)/)
})
