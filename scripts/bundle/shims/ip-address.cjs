// Bundle-time stand-in for `ip-address`, which @fastify/rate-limit needs only in its default key generator.
// gatehouse registers the plugin with its own key generator (src/plugins/rate-limits.ts), so the default
// one never runs in the Lambda; if it ever did, this fails loudly instead of keying limits wrongly.
'use strict'
class Address6 {
  constructor () { throw new Error('ip-address is not in the Lambda bundle: use src/plugins/rate-limits.ts keys') }
}
module.exports = { Address6 }
