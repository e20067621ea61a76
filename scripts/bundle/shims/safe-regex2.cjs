// Bundle-time stand-in for `safe-regex2` (and its parser `ret`, ~4 KB gzip). find-my-way asks it about its
// own three constant expressions at load — judged safe by the real module, recorded here by their source —
// and about regular-expression route parameters, which gatehouse never declares. Anything else is refused,
// so this can never wave an unknown expression through. test/scripts/bundle-shims.test.ts keeps the list honest.
'use strict'
const KNOWN_SAFE = new Set([
  /(\/:[^/()]*?)\?(\/?)/.source,
  /[.*+?^${}()|[\]\\]/.source,
  /\/\/+/.source
])

module.exports = function isRegexSafe (regex) {
  const source = regex instanceof RegExp ? regex.source : String(regex)
  if (KNOWN_SAFE.has(source)) return true
  throw new Error('safe-regex2 is not in the Lambda bundle: gatehouse declares no regular-expression routes')
}
