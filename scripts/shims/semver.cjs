// Bundle-time replacement for `semver` (used by fastify/lib/plugin-utils.js to check each plugin's fastify
// version range): the very same semver code, but only the three functions fastify calls, not the whole
// package index (ranges, diff, inc, …). By path: the bundler's alias for `semver` covers its subpaths too.
'use strict'
module.exports = {
  satisfies: require('../../node_modules/semver/functions/satisfies.js'),
  gt: require('../../node_modules/semver/functions/gt.js'),
  coerce: require('../../node_modules/semver/functions/coerce.js')
}
