// The bundle replaces `jwk-to-pem` with a Node-crypto shim: prove both give the same key for RSA and EC JWKs.
import t from 'tap'
import { createRequire } from 'node:module'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'

const require = createRequire(import.meta.url)
const shim = require('../../scripts/shims/jwk-to-pem.cjs') as (jwk: object) => string
const original = require('jwk-to-pem') as (jwk: object) => string

t.test('the jwk-to-pem shim yields the same public key as jwk-to-pem', async t => {
  for (const [type, options] of [['rsa', { modulusLength: 2048 }], ['ec', { namedCurve: 'P-256' }]] as const) {
    const { publicKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number })
    const jwk = publicKey.export({ format: 'jwk' })
    const a = createPublicKey(shim(jwk)).export({ type: 'spki', format: 'der' })
    const b = createPublicKey(original(jwk)).export({ type: 'spki', format: 'der' })
    t.same(a, b, type)
  }
  t.throws(() => shim({ kty: 'RSA' }), 'an incomplete JWK is refused')
})
