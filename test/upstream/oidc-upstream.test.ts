// The upstream adapter against a real development IdP child process on loopback.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { OidcUpstream, identityFromClaims, type UpstreamConfig } from '../../src/upstream/oidc-upstream.ts'
import { createUpstream } from '../../src/upstream/create-upstream.ts'
import { cognitoUserPoolOf } from '../../src/upstream/cognito.ts'
import { UpstreamDeniedError, UpstreamGrantRevokedError, UpstreamUnavailableError, type UpstreamIdp } from '../../src/ports/upstream.ts'
import { startDevIdpProcess } from '../support/dev-idp.ts'
import { loginThroughForm } from '../support/browserless-login.ts'
import { freePort } from '../support/net.ts'

const REDIRECT_URI = 'http://127.0.0.1:9/callback'
const idp = await startDevIdpProcess({ redirectUris: [REDIRECT_URI] })
t.teardown(() => idp.stop())

function upstreamConfig (overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    issuer: idp.issuer,
    devIdp: true,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    clientSecretArn: undefined,
    scopes: 'openid email profile',
    authorizationEndpoint: undefined,
    tokenEndpoint: undefined,
    jwksUri: undefined,
    revocationEndpoint: undefined,
    timeoutMs: 2000,
    ...overrides
  }
}

const checks = () => ({ state: randomBytes(16).toString('base64url'), codeVerifier: randomBytes(32).toString('base64url'), nonce: randomBytes(16).toString('base64url') })

async function signIn (upstream: UpstreamIdp, username = 'alice') {
  const c = checks()
  const { url } = await loginThroughForm(await upstream.authorizationUrl(c), username, username, { stopAt: REDIRECT_URI })
  return { ...c, callbackUrl: url }
}

t.test('authorizationUrl: PKCE S256, state, nonce, the registered redirect URI, no resource', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI })
  const c = checks()
  const url = await upstream.authorizationUrl(c)
  t.equal(url.origin + url.pathname, `${idp.issuer}/auth`)
  const p = url.searchParams
  t.equal(p.get('response_type'), 'code')
  t.equal(p.get('client_id'), idp.clientId)
  t.equal(p.get('redirect_uri'), REDIRECT_URI)
  t.equal(p.get('scope'), 'openid email profile')
  t.equal(p.get('state'), c.state)
  t.equal(p.get('nonce'), c.nonce)
  t.equal(p.get('code_challenge_method'), 'S256')
  t.equal(p.get('code_challenge'), createHash('sha256').update(c.codeVerifier).digest('base64url'))
  t.notOk(p.has('resource'), 'RFC 8707 resource is never forwarded upstream')
})

t.test('completeLogin maps alice: sub, email, cognito:username, cognito:groups; tokens with expiresAt', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI, now: () => 1_000_000 })
  const login = await upstream.completeLogin(await signIn(upstream))
  t.match(login.identity, { email: 'alice@example.com', username: 'alice' })
  t.match(login.identity.sub, /^[0-9a-f-]{36}$/)
  t.same(login.identity.groups, ['engineering', 'admins'])
  t.type(login.tokens.accessToken, 'string')
  t.type(login.tokens.refreshToken, 'string')
  t.type(login.tokens.idToken, 'string')
  t.equal(login.tokens.expiresAt, 1_000_000 + 3600)

  const bob = await upstream.completeLogin(await signIn(upstream, 'bob'))
  t.same(bob.identity.groups, [], 'no cognito:groups claim = no groups')
})

t.test('a callback whose state is not this sign-in\'s is refused (UpstreamDeniedError), and its code is not redeemed', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI })
  const login = await signIn(upstream)
  await t.rejects(upstream.completeLogin({ ...login, state: 'someone-else' }), UpstreamDeniedError)
  // The code was left alone, so the rightful sign-in still completes.
  t.equal((await upstream.completeLogin(login)).identity.username, 'alice')
})

t.test('error=access_denied in the callback → UpstreamDeniedError', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI })
  const c = checks()
  const callbackUrl = new URL(`${REDIRECT_URI}?error=access_denied&error_description=${encodeURIComponent('<b>user said no</b>')}&state=${c.state}`)
  const error = await upstream.completeLogin({ ...c, callbackUrl }).catch((e: unknown) => e)
  t.type(error, UpstreamDeniedError)
  t.match((error as Error).message, /access_denied/)
  t.notMatch((error as Error).message, /user said no/, 'upstream text is logged, not shown')
})

t.test('an error the IdP itself sends back (prompt=none without a session) → UpstreamDeniedError', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI })
  const c = checks()
  const url = await upstream.authorizationUrl(c)
  url.searchParams.set('prompt', 'none')
  const { url: callbackUrl } = await loginThroughForm(url, 'alice', 'alice', { stopAt: REDIRECT_URI })
  t.equal(callbackUrl.searchParams.get('error'), 'login_required')
  await t.rejects(upstream.completeLogin({ ...c, callbackUrl }), UpstreamDeniedError)
})

t.test('a wrong nonce fails ID token validation', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI })
  const login = await signIn(upstream)
  await t.rejects(upstream.completeLogin({ ...login, nonce: 'not-the-nonce' }), UpstreamUnavailableError)
})

t.test('refresh works; after revoke the refresh fails with UpstreamGrantRevokedError', async t => {
  const upstream = createUpstream(upstreamConfig(), { redirectUri: REDIRECT_URI })
  const { tokens } = await upstream.completeLogin(await signIn(upstream))
  const refreshToken = tokens.refreshToken ?? ''
  const refreshed = await upstream.refresh(refreshToken)
  t.type(refreshed.accessToken, 'string')
  t.not(refreshed.accessToken, tokens.accessToken)
  t.equal(refreshed.refreshToken, refreshToken, 'kept when the IdP does not rotate')
  await upstream.revoke(refreshToken)
  await t.rejects(upstream.refresh(refreshToken), UpstreamGrantRevokedError)
})

t.test('IdP down: connection refused → UpstreamUnavailableError', async t => {
  const port = await freePort()
  const upstream = createUpstream(upstreamConfig({ issuer: `http://127.0.0.1:${port}` }), { redirectUri: REDIRECT_URI })
  const error = await upstream.authorizationUrl(checks()).catch((e: unknown) => e)
  t.type(error, UpstreamUnavailableError)
  t.equal((error as Error).message, 'the identity provider is unavailable', 'no internal detail in the message')
  t.ok((error as Error).cause, 'cause kept for the log')
})

t.test('IdP hangs: UpstreamUnavailableError once timeoutMs has passed', async t => {
  const sockets = new Set<Socket>()
  const blackHole: Server = createServer(socket => { sockets.add(socket) })
  await new Promise<void>(resolve => blackHole.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const s of sockets) s.destroy(); blackHole.close() })
  const { port } = blackHole.address() as { port: number }
  const upstream = createUpstream(upstreamConfig({ issuer: `http://127.0.0.1:${port}`, timeoutMs: 300 }), { redirectUri: REDIRECT_URI })
  const started = Date.now()
  await t.rejects(upstream.authorizationUrl(checks()), UpstreamUnavailableError)
  const elapsed = Date.now() - started
  t.ok(elapsed >= 250 && elapsed < 2000, `gave up after ${elapsed} ms`)
})

t.test('a client secret read on first use (UPSTREAM_CLIENT_SECRET_ARN): not at construction; a failing read is a logged UpstreamUnavailableError, retried next time', async t => {
  let reads = 0
  let fail = true
  const warnings: unknown[] = []
  const upstream = createUpstream(upstreamConfig({ clientSecret: undefined }), {
    redirectUri: REDIRECT_URI,
    clientSecret: async () => { reads++; if (fail) throw new Error('could not read secret arn:aws:secretsmanager:us-east-1:111122223333:secret:wrong'); return idp.clientSecret },
    log: { warn: (fields) => { warnings.push(fields) } }
  })
  t.equal(reads, 0, 'nothing read when the upstream is built (cold start)')
  await t.rejects(upstream.authorizationUrl(checks()), UpstreamUnavailableError)
  t.match(warnings, [{ operation: 'authorization_url: discovery', err: { message: /could not read secret .*:secret:wrong/ } }], 'the cause is logged')
  fail = false
  const login = await upstream.completeLogin(await signIn(upstream))
  t.match(login.identity, { username: 'alice' }, 'the code exchange authenticates with the secret once read')
  t.equal(reads, 2, 'read again after the failure, then kept')
})

t.test('discovery is lazy and retried after a failure: gatehouse can start before the IdP', async t => {
  const port = await freePort()
  const upstream = createUpstream(upstreamConfig({ issuer: `http://127.0.0.1:${port}` }), { redirectUri: REDIRECT_URI })
  await t.rejects(upstream.authorizationUrl(checks()), UpstreamUnavailableError)
  const late = await startDevIdpProcess({ redirectUris: [REDIRECT_URI], port, clientId: idp.clientId, clientSecret: idp.clientSecret })
  t.teardown(() => late.stop())
  const url = await upstream.authorizationUrl(checks())
  t.equal(url.origin, late.issuer)
})

t.test('explicit endpoints override discovery', async t => {
  const all = createUpstream(upstreamConfig({
    authorizationEndpoint: `${idp.issuer}/auth`,
    tokenEndpoint: `${idp.issuer}/token`,
    jwksUri: `${idp.issuer}/jwks`
  }), { redirectUri: REDIRECT_URI })
  const login = await all.completeLogin(await signIn(all))
  t.equal(login.identity.username, 'alice', 'a full login with all three given (no discovery needed)')

  const authorizationEndpoint = `http://127.0.0.1:9/elsewhere/authorize`
  const partial = createUpstream(upstreamConfig({ authorizationEndpoint }), { redirectUri: REDIRECT_URI })
  const url = await partial.authorizationUrl(checks())
  t.equal(url.origin + url.pathname, authorizationEndpoint, 'one endpoint overridden, the rest discovered')

  const badRevocation = createUpstream(upstreamConfig({ revocationEndpoint: `${idp.issuer}/no-such-endpoint` }), { redirectUri: REDIRECT_URI })
  const { tokens } = await badRevocation.completeLogin(await signIn(badRevocation))
  await t.rejects(badRevocation.revoke(tokens.refreshToken ?? ''), UpstreamUnavailableError, 'the overridden revocation endpoint is the one called')
})

t.test('http is refused for a non-loopback issuer', async t => {
  t.throws(() => new OidcUpstream(upstreamConfig({ issuer: 'http://idp.example.com' }), { redirectUri: REDIRECT_URI }), /must be https/)
  t.throws(() => new OidcUpstream(upstreamConfig({ issuer: 'https://idp.example.com', tokenEndpoint: 'http://127.0.0.1:1/token' }), { redirectUri: REDIRECT_URI }), /must be https/)
})

t.test('identityFromClaims: Cognito claims first, then generic OIDC ones', async t => {
  t.same(identityFromClaims({ sub: 's', 'cognito:username': 'c', preferred_username: 'p', 'cognito:groups': ['a', 7, 'b'], groups: ['g'] }), { sub: 's', username: 'c', groups: ['a', 'b'] })
  t.same(identityFromClaims({ sub: 's', email: 'e@x', preferred_username: 'p', groups: ['g'] }), { sub: 's', email: 'e@x', username: 'p', groups: ['g'] })
  t.throws(() => identityFromClaims({ email: 'e@x' }), UpstreamUnavailableError)
})

t.test('a Cognito user pool is recognised from its issuer', async t => {
  t.same(cognitoUserPoolOf('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123'), { region: 'eu-west-1', userPoolId: 'eu-west-1_AbC123' })
  t.equal(cognitoUserPoolOf('https://login.example.com/eu-west-1_AbC123'), undefined)
  t.equal(cognitoUserPoolOf('http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123'), undefined)
})
