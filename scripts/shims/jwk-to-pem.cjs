// Bundle-time replacement for `jwk-to-pem` (used by get-jwks): Node's own crypto converts a JWK to PEM, so
// the Lambda bundle need not carry elliptic, bn.js and asn1.js. Same contract: jwk in, SPKI PEM out.
'use strict'
const { createPublicKey } = require('node:crypto')

module.exports = function jwkToPem (jwk) {
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
}
