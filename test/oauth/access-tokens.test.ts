import t from 'tap'
import { generateKeyPairSync, sign, createPublicKey, type KeyObject } from 'node:crypto'
import { AccessTokenVerifier, issueAccessToken } from '../../src/oauth/access-tokens.ts'
import { InvalidTokenError } from '../../src/oauth/errors.ts'
import type { KeySet, PublicJwk } from '../../src/ports/keys.ts'
import { createFakeClock } from '../support/store.ts'

function keySet (kid: string): { keys: KeySet, jwk: PublicJwk, privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const exported = publicKey.export({ format: 'jwk' }) as { n: string, e: string }
  const jwk: PublicJwk = { kty: 'RSA', n: exported.n, e: exported.e, kid, alg: 'RS256', use: 'sig' }
  return { jwk, privateKey, keys: { current: { kid, sign: async data => sign('RSA-SHA256', data, privateKey) }, publicKeys: async () => [jwk] } }
}

const ISSUER = 'https://gatehouse.example'
const AUDIENCE = 'https://gatehouse.example/mcp'
const grant = { grantId: 'g1', clientId: 'c1', identity: { sub: 'alice', email: 'alice@example.com', groups: ['admins'] } }
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

t.test('RFC 9068: issued tokens are RS256 at+jwt with kid, bound to the MCP audience, and verify', async t => {
  const clock = createFakeClock(1_800_000_000)
  const { keys, jwk } = keySet('k1')
  const { token, claims } = await issueAccessToken(grant, ['mcp:read'], { keys, clock, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 3600 })
  const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString())
  t.same(header, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
  t.equal(claims.exp - claims.iat, 3600)
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, clock, skewSeconds: 30 }, [jwk])
  const verified = verifier.verify(token)
  t.equal(verified.sub, 'alice')
  t.equal(verified.gid, 'g1')
  t.same(verified.groups, ['admins'])
})

t.test('expired, wrong-audience, wrong-issuer, unknown-kid and tampered tokens are refused', async t => {
  const clock = createFakeClock(1_800_000_000)
  const { keys, jwk, privateKey } = keySet('k1')
  const opts = { keys, clock, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 600 }
  const { token } = await issueAccessToken(grant, ['mcp:read'], opts)
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, clock, skewSeconds: 30 }, [jwk])
  const expect = (tok: string, why: string): void => { t.throws(() => verifier.verify(tok), InvalidTokenError, why) }

  const [h, p, s] = token.split('.') as [string, string, string]
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  expect(`${h}.${b64({ ...payload, scope: 'mcp:read mcp:write' })}.${s}`, 'claims tampered')
  expect(`${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${p}.`, 'alg none')
  expect(`${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${p}.${s}`, 'HS256')
  expect(`${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${p}.${s}`, 'wrong typ')
  expect(`${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'other' })}.${p}.${s}`, 'unknown kid')
  const resign = (claims: Record<string, unknown>): string => {
    const input = `${h}.${b64(claims)}`
    return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`
  }
  t.doesNotThrow(() => verifier.verify(resign(payload)), 'a correctly re-signed copy verifies (the checks below are about claims)')
  expect(resign({ ...payload, aud: 'https://other.example/mcp' }), 'wrong audience')
  expect(resign({ ...payload, iss: 'https://evil.example' }), 'wrong issuer')
  expect(resign({ ...payload, nbf: payload.iat + 120 }), 'not yet valid beyond skew')
  expect('not.a.jwt!', 'garbage')
  clock.advance(600 + 31)
  expect(token, 'expired beyond skew')
  t.equal(createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }).asymmetricKeyType, 'rsa')
})

t.test('clock skew: a token expired by less than the skew is still accepted', async t => {
  const clock = createFakeClock(1_800_000_000)
  const { keys, jwk } = keySet('k1')
  const { token } = await issueAccessToken(grant, ['mcp:read'], { keys, clock, issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 60 })
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, clock, skewSeconds: 30 }, [jwk])
  clock.advance(60 + 29)
  t.doesNotThrow(() => verifier.verify(token))
  clock.advance(2)
  t.throws(() => verifier.verify(token), InvalidTokenError)
})
