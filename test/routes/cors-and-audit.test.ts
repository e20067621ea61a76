// CORS on the endpoints browser-based MCP clients call (MCP Inspector runs in a browser), and the audit
// log: stable event names with client and grant ids, and never a token, code or secret value.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { buildTestApp } from '../support/app.ts'
import { authorize, exchangeCode, postForm, registerClient, registerResourceServer, startHarness } from '../support/oauth-harness.ts'

const INSPECTOR = 'https://inspector.example'

t.test('CORS: a preflight from a configured https origin is allowed for /token and /register and exposes WWW-Authenticate', async t => {
  const { app } = await buildTestApp(t, { env: { ALLOWED_ORIGINS: INSPECTOR } })
  for (const url of ['/token', '/register', '/introspect', '/revoke']) {
    const preflight = await app.inject({ method: 'OPTIONS', url, headers: { origin: INSPECTOR, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } })
    t.equal(preflight.statusCode, 204, `${url}: preflight answered`)
    t.equal(preflight.headers['access-control-allow-origin'], INSPECTOR, `${url}: origin allowed`)
    t.match(preflight.headers['access-control-allow-methods'], /POST/, `${url}: POST allowed`)
    t.match(preflight.headers['access-control-allow-headers'], /content-type/i, `${url}: content-type allowed`)
    t.match(preflight.headers['access-control-allow-headers'], /authorization/i, `${url}: authorization allowed`)
    t.match(preflight.headers['access-control-expose-headers'], /www-authenticate/i, `${url}: WWW-Authenticate exposed`)
    t.equal(preflight.headers['access-control-allow-credentials'], undefined, `${url}: no credentialed CORS`)
    t.match(preflight.headers.vary, /origin/i, `${url}: Vary: Origin`)
  }
  // The actual response to a cross-origin call carries the headers too, so the client can read the challenge.
  const res = await app.inject({ method: 'POST', url: '/token', headers: { origin: INSPECTOR, 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('nobody:x').toString('base64')}` }, payload: 'grant_type=authorization_code&code=x' })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['access-control-allow-origin'], INSPECTOR)
  t.match(res.headers['access-control-expose-headers'], /www-authenticate/i)
  t.match(res.headers['www-authenticate'], /^Basic/)
  const meta = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', headers: { origin: INSPECTOR } })
  t.equal(meta.headers['access-control-allow-origin'], INSPECTOR, 'discovery is readable cross-origin')
})

t.test('CORS, default settings: an origin that is neither the public URL\'s nor loopback gets no Access-Control-Allow-Origin', async t => {
  const { app } = await buildTestApp(t)
  for (const origin of ['http://evil.example', 'https://evil.example', 'null', 'https://inspector.example/path', 'file://', 'http://127.0.0.1:6274/path', 'http://user@127.0.0.1:6274']) {
    for (const url of ['/token', '/register']) {
      const preflight = await app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'POST' } })
      t.equal(preflight.headers['access-control-allow-origin'], undefined, `${origin} ${url}: not allowed`)
    }
  }
  const post = await app.inject({ method: 'POST', url: '/register', headers: { origin: 'http://evil.example' }, payload: { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none' } })
  t.equal(post.headers['access-control-allow-origin'], undefined, 'the browser will not let evil.example read the answer')
  const loopback = await app.inject({ method: 'OPTIONS', url: '/token', headers: { origin: 'http://127.0.0.1:6274', 'access-control-request-method': 'POST' } })
  t.equal(loopback.headers['access-control-allow-origin'], 'http://127.0.0.1:6274', 'a local inspector on loopback is allowed')
})

t.test('RFC 9700 §2.6: the authorization endpoint and the other browser routes answer no CORS, preflight or not', async t => {
  const { app } = await buildTestApp(t, { env: { ALLOWED_ORIGINS: INSPECTOR } })
  for (const [method, url] of [['GET', '/authorize?client_id=x'], ['POST', '/authorize/consent'], ['GET', '/callback?state=x']] as const) {
    const path = url.split('?')[0] as string
    for (const origin of [INSPECTOR, 'http://127.0.0.1:6274']) {
      const preflight = await app.inject({ method: 'OPTIONS', url: path, headers: { origin, 'access-control-request-method': method } })
      t.not(preflight.statusCode, 204, `${path} from ${origin}: the preflight is not answered`)
      t.equal(preflight.headers['access-control-allow-origin'], undefined, `${path} from ${origin}: no ACAO on the preflight`)
      t.equal(preflight.headers['access-control-allow-methods'], undefined, `${path} from ${origin}: no methods on the preflight`)
      const res = await app.inject({ method, url, headers: { origin } })
      t.equal(res.headers['access-control-allow-origin'], undefined, `${path} from ${origin}: no ACAO on the answer`)
    }
  }
  for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp', '/jwks.json']) {
    const res = await app.inject({ method: 'GET', url, headers: { origin: INSPECTOR } })
    t.equal(res.headers['access-control-allow-origin'], INSPECTOR, `${url} still answers cross-origin`)
  }
  const health = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: INSPECTOR } })
  t.equal(health.headers['access-control-allow-origin'], undefined, '/healthz is not a cross-origin endpoint')
})

t.test('CORS: an explicit ALLOWED_ORIGINS list allows only its members', async t => {
  const { app } = await buildTestApp(t, { env: { ALLOWED_ORIGINS: INSPECTOR } })
  const yes = await app.inject({ method: 'OPTIONS', url: '/token', headers: { origin: INSPECTOR, 'access-control-request-method': 'POST' } })
  t.equal(yes.headers['access-control-allow-origin'], INSPECTOR)
  const no = await app.inject({ method: 'OPTIONS', url: '/token', headers: { origin: 'https://other.example', 'access-control-request-method': 'POST' } })
  t.equal(no.headers['access-control-allow-origin'], undefined)
})

interface LogLine { audit?: string, msg?: string, [key: string]: unknown }

function auditEvents (lines: string[]): LogLine[] {
  return lines.map(l => JSON.parse(l) as LogLine).filter(l => typeof l.audit === 'string')
}

t.test('audit: a registration logs client.registered with the client id and never the secret', async t => {
  const logLines: string[] = []
  const { app } = await buildTestApp(t, { logLines })
  const res = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'client_secret_basic', client_name: 'Audited' } })
  const body = res.json()
  const events = auditEvents(logLines).filter(e => e.audit === 'client.registered')
  t.equal(events.length, 1, 'one event')
  t.equal(events[0]?.clientId, body.client_id)
  t.equal(events[0]?.authMethod, 'client_secret_basic')
  t.equal(events[0]?.clientName, 'Audited')
  t.notOk(logLines.some(l => l.includes(body.client_secret)), 'the secret is in no log line')
  t.notOk(logLines.some(l => l.includes(body.client_secret.slice(0, 16))), 'not even a prefix of it')
})

t.test('audit: a full flow logs stable events with clientId/grantId and never a token, code, verifier or secret', async t => {
  const logLines: string[] = []
  const h = await startHarness(t, { logLines })
  const pub = await registerClient(h)
  const rs = await registerResourceServer(h)
  const a = await authorize(h, pub.client)
  const code = a.redirect.searchParams.get('code') as string
  const tokens = await exchangeCode(h, pub, a)
  const rotated = await oauth.processRefreshTokenResponse(h.as, pub.client, await oauth.refreshTokenGrantRequest(h.as, pub.client, pub.auth, tokens.refresh_token as string, h.options))
  const introspected = await oauth.processIntrospectionResponse(h.as, rs.client, await oauth.introspectionRequest(h.as, rs.client, rs.auth, rotated.access_token, h.options))
  t.equal(introspected.active, true)
  const reuse = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: pub.client.client_id })
  t.equal(reuse.body.error, 'invalid_grant')

  const events = auditEvents(logLines)
  const byName = (name: string) => events.filter(e => e.audit === name)
  const clientId = pub.client.client_id
  const issued = byName('grant.issued')[0]
  t.ok(issued, 'grant.issued')
  const grantId = issued?.grantId
  t.type(grantId, 'string', 'grant.issued names the grant')
  t.equal(issued?.clientId, clientId)

  t.equal(byName('consent.granted')[0]?.clientId, clientId, 'consent.granted')
  const login = byName('login.succeeded')[0]
  t.equal(login?.clientId, clientId, 'login.succeeded')
  t.equal(login?.grantId, grantId)
  t.equal(byName('token.refreshed')[0]?.clientId, clientId, 'token.refreshed')
  t.equal(byName('token.refreshed')[0]?.grantId, grantId)
  t.equal(byName('refresh.reuse_detected')[0]?.clientId, clientId, 'refresh.reuse_detected')
  t.equal(byName('refresh.reuse_detected')[0]?.grantId, grantId)
  const revoked = byName('grant.revoked').find(e => e.grantId === grantId)
  t.ok(revoked, 'grant.revoked for the reused family')
  t.equal(revoked?.clientId, clientId)
  t.equal(byName('token.introspected')[0]?.clientId, rs.client.client_id, 'token.introspected names the caller')
  t.equal(byName('client.registered').length, 1, 'one registration (the resource server is provisioned, not registered)')

  const secrets: Array<[string, string]> = [
    ['authorization code', code],
    ['code verifier', a.verifier],
    ['access token', tokens.access_token],
    ['refresh token', tokens.refresh_token as string],
    ['rotated access token', rotated.access_token],
    ['rotated refresh token', rotated.refresh_token as string],
    ['client secret', rs.secret as string],
    ['dev IdP client secret', h.idp.clientSecret]
  ]
  for (const [name, value] of secrets) {
    t.ok(value.length >= 16, `${name} is a real value`)
    t.notOk(logLines.some(l => l.includes(value)), `${name} is in no log line`)
  }
  // The JWT's signature is the part that makes it a credential; check it separately from the whole token.
  const signature = tokens.access_token.split('.')[2] as string
  t.notOk(logLines.some(l => l.includes(signature)), 'no access token signature in the logs')
  for (const e of events) t.notOk(Object.keys(e).some(k => /token|secret|code|password|verifier/i.test(k) && !['authMethod'].includes(k)), `${e.audit}: no credential-named fields`)
})

t.test('the cross-origin paths: metadata, JWKS, the OAuth endpoints, /mcp and each gateway backend /mcp/<name>; never the browser routes', async t => {
  const { answersCrossOrigin } = await import('../../src/plugins/origins.ts')
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp/everything', '/jwks.json', '/register', '/token', '/revoke', '/introspect', '/mcp', '/mcp?x=1', '/mcp/everything', '/mcp/jira-cloud']) {
    t.ok(answersCrossOrigin(path), `${path} answers cross-origin`)
  }
  for (const path of ['/authorize', '/authorize?client_id=x', '/authorize/consent', '/callback', '/account', '/account/revoke', '/healthz', '/mcp/', '/mcp/Everything', '/mcp/a/b', '/tokens', '/mcpx']) {
    t.notOk(answersCrossOrigin(path), `${path} does not`)
  }
  const { app } = await buildTestApp(t)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/mcp/everything', headers: { origin: 'http://127.0.0.1:6274', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,mcp-session-id' } })
  t.equal(preflight.statusCode, 204, 'a gateway backend preflight from a loopback origin is answered')
  t.equal(preflight.headers['access-control-allow-origin'], 'http://127.0.0.1:6274')
})
