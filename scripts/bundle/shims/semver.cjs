// Bundle-time replacement for `semver`, used only by fastify/lib/plugin-utils.js to check each plugin's
// `fastify` version range (semver's own functions pull in its Range/Comparator machinery: ≈ 21 KB minified
// and ≈ 3 ms of a cold start). Covers the range forms plugins declare: `5.x`, `^5.0.0`, `>=4.0.0`,
// `<=2.10.0`, exact versions, and `||` / space-joined combinations. Anything else throws: a plugin check
// must never be waved through. test/scripts/bundle-shims.test.ts compares it with the real module.
'use strict'
// Numbers as semver writes them: no leading zeros, and (checked below) safe integers.
const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/
const COMPARATOR = /^(\^|>=|<=|>|<|=)?v?(0|[1-9]\d*|x|X|\*)(?:\.(0|[1-9]\d*|x|X|\*))?(?:\.(0|[1-9]\d*|x|X|\*))?$/

function number (text, what) {
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new TypeError(`the bundle's semver shim refuses ${what}`)
  return n
}

function parse (version) {
  const m = VERSION.exec(String(version).trim())
  if (m === null) throw new TypeError(`Invalid Version: ${version}`)
  return { parts: [number(m[1], version), number(m[2], version), number(m[3], version)], prerelease: m[4] }
}

function compareParts (a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  return 0
}

function compare (a, b) {
  const byParts = compareParts(a.parts, b.parts)
  if (byParts !== 0 || a.prerelease === b.prerelease) return byParts
  if (a.prerelease === undefined) return 1
  if (b.prerelease === undefined) return -1
  throw new Error('the bundle\'s semver shim does not order two prereleases')
}

const wild = (part) => part === undefined || part === 'x' || part === 'X' || part === '*'

/** One comparator as a test on a parsed version (release versions only, as semver without includePrerelease). */
function comparator (text) {
  const m = COMPARATOR.exec(text)
  if (m === null) throw new Error(`the bundle's semver shim does not support the range "${text}"`)
  const [, op = '=', ...raw] = m
  const fixed = []
  let wildcard = false
  for (const part of raw) {
    if (wild(part)) { wildcard = true; continue }
    // `x.5`, `5.x.3`: a number after a wildcard is no range semver accepts.
    if (wildcard) throw new Error(`the bundle's semver shim does not support the range "${text}"`)
    fixed.push(number(part, `the range "${text}"`))
  }
  const low = { parts: [fixed[0] ?? 0, fixed[1] ?? 0, fixed[2] ?? 0] }
  const fromLow = (v) => compare(v, low) // a prerelease sorts before its release
  if (op === '=') {
    // `5.x` / `5` / `5.1` / `5.1.2`: every fixed part must match (and `5.1.2` is not `5.1.2-rc.1`).
    return (v) => fixed.every((n, i) => v.parts[i] === n) && (fixed.length < 3 || v.prerelease === undefined)
  }
  if (op === '^') {
    // The first non-zero fixed part may not change (semver's caret rule).
    const lead = fixed.findIndex(n => n !== 0)
    const keep = lead === -1 ? fixed.length : lead + 1
    return (v) => fromLow(v) >= 0 && fixed.slice(0, keep).every((n, i) => v.parts[i] === n)
  }
  if (fixed.length < 3) throw new Error(`the bundle's semver shim does not support the partial range "${text}"`)
  return {
    '>=': (v) => fromLow(v) >= 0,
    '<=': (v) => fromLow(v) <= 0,
    '>': (v) => fromLow(v) > 0,
    '<': (v) => fromLow(v) < 0
  }[op]
}

function satisfies (version, range, options = {}) {
  const v = parse(version)
  if (v.prerelease !== undefined && options.includePrerelease !== true) return false
  return String(range).split('||').some(set => set.trim().split(/\s+/).filter(Boolean).map(comparator).every(test => test(v)))
}

function coerce (version) {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(String(version))
  return m === null ? null : `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`
}

const gt = (a, b) => compare(parse(a), parse(b)) > 0

module.exports = { satisfies, gt, coerce }
