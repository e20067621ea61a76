import t from 'tap'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { rsaPublicJwk, rsaThumbprint } from '../../src/crypto/jwk.ts'

t.test('kid is the RFC 7638 §3.1 example thumbprint for the example RSA key', async t => {
  const n = '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw'
  t.equal(rsaThumbprint(n, 'AQAB'), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  const jwk = rsaPublicJwk(createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' }))
  t.same(jwk, { kty: 'RSA', n, e: 'AQAB', kid: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', alg: 'RS256', use: 'sig' })
})

t.test('a private key publishes only its public members', async t => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = rsaPublicJwk(privateKey) as unknown as Record<string, unknown>
  t.same(Object.keys(jwk).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
  t.notOk('d' in jwk)
})

t.test('a non-RSA key is refused', async t => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.throws(() => rsaPublicJwk(publicKey), TypeError)
})
