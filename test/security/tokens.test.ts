// Access token security at /mcp and /introspect (RFC 9068, RFC 8725 "JWT Best Current Practices"):
// header and claim tampering, algorithm confusion, key rotation while serving, clock skew bounds.
import t, { type Test } from 'tap'
import { createHmac, createPublicKey, type KeyObject } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../support/app.ts'
import { createFakeClock, type FakeClock } from '../support/store.ts'
import { mintGrant, registerTestClient } from './mint.ts'
import type { LocalKeySet } from '../../src/crypto/local-keys.ts'

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const parts = (token: string): { header: Record<string, unknown>, claims: Record<string, unknown>, signature: string } => {
  const [h, p, s] = token.split('.') as [string, string, string]
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(p, 'base64url').toString()), signature: s }
}

interface Fixture { app: FastifyInstance, clock: FakeClock, token: string, clientId: string, rs: { id: string, secret: string } }

async function fixture (t: Test): Promise<Fixture> {
  const clock = createFakeClock()
  const { app } = await buildTestApp(t, { clock, env: { GRANT_CACHE_TTL: '0', CLOCK_SKEW: '30', ACCESS_TOKEN_TTL: '600' } })
  // A confidential client owns the tokens, so it may introspect them (other clients only with INTROSPECTION_CLIENT_IDS).
  const client = await registerTestClient(app, { token_endpoint_auth_method: 'client_secret_basic' })
  const { accessToken } = await mintGrant(app, client.clientId)
  return { app, clock, token: accessToken, clientId: client.clientId, rs: { id: client.clientId, secret: client.clientSecret as string } }
}

async function mcp (app: FastifyInstance, token: string): Promise<{ status: number, challenge: string }> {
  const res = await app.inject({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, payload: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } } })
  return { status: res.statusCode, challenge: String(res.headers['www-authenticate'] ?? '') }
}

async function introspectActive (f: Fixture, token: string): Promise<boolean> {
  const res = await f.app.inject({ method: 'POST', url: '/introspect', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${f.rs.id}:${f.rs.secret}`).toString('base64')}` }, payload: new URLSearchParams({ token }).toString() })
  return (res.json() as { active: boolean }).active
}

/** Signs arbitrary header and claims with the app's real current key (RS256). */
async function resign (app: FastifyInstance, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const input = `${b64(header)}.${b64(claims)}`
  const signature = await app.gatehouse.ctx.keys.current.sign(Buffer.from(input, 'ascii'))
  return `${input}.${Buffer.from(signature).toString('base64url')}`
}

t.test('tampering with any claim or header of a valid token (signature kept) is refused with invalid_token', async t => {
  const f = await fixture(t)
  t.equal((await mcp(f.app, f.token)).status, 200, 'the untouched token works')
  t.equal(await introspectActive(f, f.token), true, 'and introspects active (so the inactive answers below mean something)')
  const { header, claims, signature } = parts(f.token)
  const [h, p] = f.token.split('.') as [string, string]
  const variants: Record<string, string> = {
    'scope widened': `${h}.${b64({ ...claims, scope: 'mcp:read mcp:write admin' })}.${signature}`,
    'sub changed': `${h}.${b64({ ...claims, sub: 'someone-else' })}.${signature}`,
    'aud changed': `${h}.${b64({ ...claims, aud: 'https://evil.example/mcp' })}.${signature}`,
    'exp extended': `${h}.${b64({ ...claims, exp: (claims.exp as number) + 86400 })}.${signature}`,
    'groups added': `${h}.${b64({ ...claims, groups: ['admins', 'root'] })}.${signature}`,
    'kid changed': `${b64({ ...header, kid: 'other' })}.${p}.${signature}`,
    'typ JWT': `${b64({ ...header, typ: 'JWT' })}.${p}.${signature}`,
    'signature truncated': `${h}.${p}.${signature.slice(0, -10)}`,
    'signature of another token': `${h}.${p}.${parts((f.token)).signature.split('').reverse().join('')}`,
    'no signature': `${h}.${p}.`,
    'two segments': `${h}.${p}`,
    'payload not JSON': `${h}.${b64('not json')}.${signature}`
  }
  for (const [name, token] of Object.entries(variants)) {
    const res = await mcp(f.app, token)
    t.equal(res.status, 401, `${name}: 401`)
    t.match(res.challenge, /error="invalid_token"/, `${name}: invalid_token challenge`)
    t.equal(await introspectActive(f, token), false, `${name}: introspection says inactive`)
  }
})

t.test('algorithm confusion: alg none, HS256 keyed with the public key, and crit headers are refused (RFC 8725 §2.1, §3.1)', async t => {
  const f = await fixture(t)
  const { header, claims } = parts(f.token)
  const jwk = (await f.app.gatehouse.ctx.keys.publicKeys())[0] as unknown as Record<string, unknown>
  const publicKey: KeyObject = createPublicKey({ key: jwk as never, format: 'jwk' })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
  const hs = (secret: string | Buffer, alg = 'HS256'): string => {
    const input = `${b64({ ...header, alg })}.${b64(claims)}`
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
  }
  const variants: Record<string, string> = {
    'alg none, empty signature': `${b64({ ...header, alg: 'none' })}.${b64(claims)}.`,
    'alg none, with the original signature': `${b64({ ...header, alg: 'none' })}.${b64(claims)}.${parts(f.token).signature}`,
    'alg NONE': `${b64({ ...header, alg: 'NONE' })}.${b64(claims)}.${parts(f.token).signature}`,
    'HS256 keyed with the PEM public key': hs(pem),
    'HS256 keyed with the JWK JSON': hs(JSON.stringify(jwk)),
    'HS256 keyed with the modulus': hs(Buffer.from(jwk.n as string, 'base64url')),
    'RS256 header but HMAC signature': hs(pem, 'RS256'),
    'PS256 header': `${b64({ ...header, alg: 'PS256' })}.${b64(claims)}.${parts(f.token).signature}`,
    'embedded jwk header': await resign(f.app, { ...header, jwk }, claims).then(tk => `${b64({ ...header, jwk, kid: 'attacker' })}.${tk.split('.')[1]}.${tk.split('.')[2]}`),
    'crit header (signed by the real key)': await resign(f.app, { ...header, crit: ['exp'] }, claims)
  }
  for (const [name, token] of Object.entries(variants)) {
    const res = await mcp(f.app, token)
    t.equal(res.status, 401, `${name}: 401`)
    t.equal(await introspectActive(f, token), false, `${name}: inactive`)
  }
})

t.test('a token signed by the real key for another issuer, audience or an unknown grant is refused', async t => {
  const f = await fixture(t)
  const { header, claims } = parts(f.token)
  const cases: Record<string, Record<string, unknown>> = {
    'other issuer': { ...claims, iss: 'https://evil.example' },
    'other audience': { ...claims, aud: 'https://other.example/mcp' },
    'audience list without us': { ...claims, aud: ['https://other.example/mcp'] },
    'unknown grant': { ...claims, gid: 'no-such-grant' },
    'grant of another client': { ...claims, client_id: 'someone-else' }
  }
  for (const [name, c] of Object.entries(cases)) t.equal((await mcp(f.app, await resign(f.app, header, c))).status, 401, name)
  t.equal((await mcp(f.app, await resign(f.app, header, claims))).status, 200, 'control: the same claims re-signed are accepted')
})

t.test('clock skew: exp, nbf and iat are honoured within CLOCK_SKEW (30 s) and refused beyond it', async t => {
  const f = await fixture(t)
  const { header, claims } = parts(f.token)
  const now = f.clock.now()
  const at = async (c: Record<string, unknown>): Promise<number> => (await mcp(f.app, await resign(f.app, header, { ...claims, ...c }))).status
  t.equal(await at({ exp: now - 20 }), 200, 'expired 20 s ago: still inside the skew')
  t.equal(await at({ exp: now - 31 }), 401, 'expired 31 s ago: refused')
  t.equal(await at({ nbf: now + 20, iat: now }), 200, 'nbf 20 s ahead: accepted')
  t.equal(await at({ nbf: now + 31, iat: now }), 401, 'nbf 31 s ahead: refused')
  t.equal(await at({ iat: now + 31, nbf: now }), 401, 'issued 31 s in the future: refused')
  t.equal(await at({ exp: 'never' }), 401, 'non-numeric exp: refused')
  f.clock.advance(600 + 31)
  t.equal((await mcp(f.app, f.token)).status, 401, 'the real token is refused once exp + skew has passed')
})

t.test('key rotation while serving: tokens of the previous key work until they expire, tokens of the new key work at once', async t => {
  const f = await fixture(t)
  const keys = f.app.gatehouse.ctx.keys as LocalKeySet
  const oldKid = keys.current.kid
  await keys.rotate()
  t.not(keys.current.kid, oldKid, 'a new current key')
  const jwks = (await f.app.inject({ method: 'GET', url: '/jwks.json' })).json() as { keys: Array<{ kid: string }> }
  t.same(jwks.keys.map(k => k.kid).sort(), [oldKid, keys.current.kid].sort(), '/jwks.json publishes both keys')
  t.equal((await mcp(f.app, f.token)).status, 200, 'a token signed by the previous key still works')
  const fresh = await mintGrant(f.app, f.clientId)
  t.equal(parts(fresh.accessToken).header.kid, keys.current.kid, 'new tokens are signed by the new key')
  t.equal((await mcp(f.app, fresh.accessToken)).status, 200, 'a token signed by the new key is accepted by the running app')
  t.equal(await introspectActive(f, fresh.accessToken), true, 'and introspects active')
  f.clock.advance(600 + 31)
  t.equal((await mcp(f.app, f.token)).status, 401, 'the previous-key token fails once it expired')
  await keys.retirePrevious(600 + 30)
  const another = await mintGrant(f.app, f.clientId)
  t.equal((await mcp(f.app, another.accessToken)).status, 200, 'serving continues after the previous key is retired')
})
