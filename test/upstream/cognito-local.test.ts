// The upstream adapter against cognito-local (a Cognito emulator) as a real child process: a user pool,
// an app client with a secret, groups and users made through the AWS SDK, then a login through its form.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createUpstream } from '../../src/upstream/create-upstream.ts'
import type { UpstreamConfig } from '../../src/upstream/oidc-upstream.ts'
import { UpstreamGrantRevokedError } from '../../src/ports/upstream.ts'
import { startCognitoLocal, createCognitoLocalPool } from '../support/cognito-local.ts'
import { loginThroughForm } from '../support/browserless-login.ts'

const REDIRECT_URI = 'http://127.0.0.1:9/callback'
const local = await startCognitoLocal()
t.teardown(() => local.stop())
const pool = await createCognitoLocalPool(local, {
  callbackUrls: [REDIRECT_URI],
  users: [
    { username: 'alice', password: 'Alice-passw0rd!', email: 'alice@example.com', groups: ['engineering', 'admins'] },
    { username: 'bob', password: 'Bob-passw0rd!', email: 'bob@example.com' }
  ]
})

const config: UpstreamConfig = {
  issuer: pool.issuer,
  devIdp: false,
  clientId: pool.clientId,
  clientSecret: pool.clientSecret,
  clientSecretArn: undefined,
  scopes: 'openid email profile',
  // cognito-local's discovery document names localhost:9229 whatever its port: endpoints are given.
  authorizationEndpoint: pool.authorizationEndpoint,
  tokenEndpoint: pool.tokenEndpoint,
  jwksUri: pool.jwksUri,
  revocationEndpoint: undefined,
  timeoutMs: 3000
}
const upstream = createUpstream(config, {
  redirectUri: REDIRECT_URI,
  clientAuthMethod: 'client_secret_post',
  idTokenWithoutNonce: true,
  cognito: { region: 'local', endpoint: local.endpoint }
})

async function login (username: string, password: string) {
  const checks = { state: randomBytes(16).toString('base64url'), codeVerifier: randomBytes(32).toString('base64url'), nonce: randomBytes(16).toString('base64url') }
  const { url: callbackUrl } = await loginThroughForm(await upstream.authorizationUrl(checks), username, password, { stopAt: REDIRECT_URI })
  return upstream.completeLogin({ ...checks, callbackUrl })
}

t.test('cognito-local discovery is unusable off its default port (why the endpoints are explicit)', async t => {
  const doc = await (await fetch(`${pool.issuer}/.well-known/openid-configuration`)).json() as { issuer: string, authorization_endpoint?: string }
  t.not(doc.issuer, pool.issuer)
  t.equal(doc.authorization_endpoint, undefined)
})

t.test('login through cognito-local maps alice\'s identity and cognito:groups', async t => {
  const { identity, tokens } = await login('alice', 'Alice-passw0rd!')
  t.equal(identity.username, 'alice')
  t.equal(identity.email, 'alice@example.com')
  t.match(identity.sub, /^[0-9a-f-]{36}$/)
  t.same([...identity.groups].sort(), ['admins', 'engineering'])
  t.type(tokens.refreshToken, 'string')
  t.type(tokens.expiresAt, 'number')
})

t.test('bob, in no group, gets no groups', async t => {
  const { identity } = await login('bob', 'Bob-passw0rd!')
  t.equal(identity.username, 'bob')
  t.same(identity.groups, [])
})

t.test('refresh works; after RevokeToken (through the SDK) it fails with UpstreamGrantRevokedError', async t => {
  const { tokens } = await login('alice', 'Alice-passw0rd!')
  const refreshToken = tokens.refreshToken ?? ''
  const refreshed = await upstream.refresh(refreshToken)
  t.type(refreshed.accessToken, 'string')
  t.equal(refreshed.refreshToken, refreshToken)
  await upstream.revoke(refreshToken)
  await t.rejects(upstream.refresh(refreshToken), UpstreamGrantRevokedError)
})
