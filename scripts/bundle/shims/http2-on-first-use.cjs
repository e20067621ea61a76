// Bundle-time stand-in for `node:http2` in fastify/lib/server.js only, which requires it when it loads but
// calls it only to create a server with `http2: true`; the Lambda creates no server at all. Under the
// runtime's heap flags Node compiles its internals from source, so loading http2 at start costs ≈ 15 ms CPU
// of every cold start (BENCHMARKS.md, session 9). The same two functions, from the real module, on first use.
'use strict'
let http2
const real = () => (http2 ??= require('node:http2'))
module.exports = {
  createServer: (...args) => real().createServer(...args),
  createSecureServer: (...args) => real().createSecureServer(...args)
}
