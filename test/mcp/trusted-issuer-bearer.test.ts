// TrustedIssuerBearer on its own: how it treats an issuer whose discovery or keys fail (401, a backoff
// during which the issuer is not asked again, then a retry), a token it cannot parse, and key rotation.
// test/mcp/resource-server-mode.test.ts covers it through /mcp.
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { TrustedIssuerBearer } from '../../src/mcp/trusted-issuer-bearer.ts'
import { InvalidTokenError } from '../../src/oauth/errors.ts'

interface Issuer { url: string, keys: Array<{ kid: string, key: KeyObject, publicJwk: object }>, requests: string[], discovery: 'ok' | 'fail' | 'no-jwks-uri' }

async function startIssuer (t: Test): Promise<Issuer> {
  const issuer: Issuer = { url: '', keys: [], requests: [], discovery: 'ok' }
  const addKey = (): void => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    issuer.keys.push({ kid: randomUUID(), key: privateKey, publicJwk: publicKey.export({ format: 'jwk' }) })
  }
  addKey()
  const server = createServer((req, res) => {
    issuer.requests.push(req.url ?? '')
    res.setHeader('content-type', 'application/json')
    if (req.url === '/.well-known/openid-configuration') {
      if (issuer.discovery === 'fail') { res.statusCode = 500; res.end('{}'); return }
      res.end(JSON.stringify(issuer.discovery === 'ok' ? { issuer: issuer.url, jwks_uri: `${issuer.url}/jwks` } : { issuer: issuer.url }))
      return
    }
    if (req.url === '/jwks') { res.end(JSON.stringify({ keys: issuer.keys.map(k => ({ ...k.publicJwk, kid: k.kid, alg: 'RS256', use: 'sig' })) })); return }
    res.statusCode = 404; res.end('{}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return issuer
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function token (issuer: Issuer, keyIndex = 0, claims: Record<string, unknown> = {}): string {
  const { kid, key } = issuer.keys[keyIndex]!
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'RS256', kid })}.${b64({ iss: issuer.url, sub: 'u1', client_id: 'app', token_use: 'access', scope: 'rs/mcp:read', exp: now + 600, ...claims })}`
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

function bearer (issuer: Issuer, clock: { ms: number }): TrustedIssuerBearer {
  return new TrustedIssuerBearer({ issuers: [issuer.url], audiences: ['app'], timeoutMs: 1000, clockSkewSeconds: 0, now: () => clock.ms })
}

t.test('a verified access token becomes a frozen caller; the issuer is asked once for discovery and once for keys', async t => {
  const issuer = await startIssuer(t)
  const rs = bearer(issuer, { ms: Date.now() })
  const caller = await rs.authenticate(token(issuer))
  t.same(caller, { sub: 'u1', groups: [], scopes: ['mcp:read'], clientId: 'app', issuer: issuer.url, expiresAt: caller.expiresAt })
  t.ok(Object.isFrozen(caller))
  await Promise.all(Array.from({ length: 5 }, async () => await rs.authenticate(token(issuer))))
  t.same(issuer.requests, ['/.well-known/openid-configuration', '/jwks'])
})

t.test('a failed discovery is 401, the issuer is left alone during the backoff, then asked again', async t => {
  const issuer = await startIssuer(t)
  issuer.discovery = 'fail'
  const clock = { ms: Date.now() }
  const rs = bearer(issuer, clock)
  await t.rejects(rs.authenticate(token(issuer)), InvalidTokenError)
  await t.rejects(rs.authenticate(token(issuer)), { message: /could not be fetched moments ago/ })
  t.equal(issuer.requests.length, 1, 'one request during the backoff')
  issuer.discovery = 'ok'
  clock.ms += 10_001
  t.equal((await rs.authenticate(token(issuer))).sub, 'u1', 'accepted once the issuer answers again')
})

t.test('a discovery document without jwks_uri is 401', async t => {
  const issuer = await startIssuer(t)
  issuer.discovery = 'no-jwks-uri'
  await t.rejects(bearer(issuer, { ms: Date.now() }).authenticate(token(issuer)), { message: /jwks_uri/ })
})

t.test('what cannot be parsed, or names another issuer or algorithm, is refused without any fetch', async t => {
  const issuer = await startIssuer(t)
  const rs = bearer(issuer, { ms: Date.now() })
  await t.rejects(rs.authenticate('not-a-jwt'), { message: /malformed/ })
  await t.rejects(rs.authenticate(token(issuer, 0, { iss: 'https://elsewhere.example' })), { message: /untrusted issuer/ })
  const hs = `${b64({ alg: 'HS256', kid: 'k' })}.${b64({ iss: issuer.url, sub: 'x', exp: 9e9 })}.sig`
  await t.rejects(rs.authenticate(hs), { message: /untrusted issuer, algorithm or kid/ })
  t.same(issuer.requests, [])
})

t.test('right after a key fetch, a random kid is refused without another fetch (the cooldown of jose)', async t => {
  const issuer = await startIssuer(t)
  const rs = bearer(issuer, { ms: Date.now() })
  await rs.authenticate(token(issuer))
  const before = issuer.requests.length
  const forged = `${b64({ alg: 'RS256', kid: randomUUID() })}.${b64({ iss: issuer.url, sub: 'x', exp: 9e9 })}.sig`
  await t.rejects(rs.authenticate(forged), { message: /unknown kid/ })
  t.equal(issuer.requests.length, before, 'within the cooldown an unknown kid causes no fetch')
})
