// The bundle-only shims must stay exact: the safe-regex2 stand-in knows find-my-way's own constant
// expressions (checked against find-my-way's source and judged safe by the real module) and refuses anything
// else; the ip-address stand-in is unreachable because every rate limit uses gatehouse's key generator; the
// semver stand-in answers like semver for every range form plugins declare.
import t from 'tap'
import { createRequire } from 'node:module'
import { readFile } from 'node:fs/promises'

const require = createRequire(import.meta.url)
const shim = require('../../scripts/bundle/shims/safe-regex2.cjs') as (regex: RegExp) => boolean
const realSafe = require('safe-regex2') as (regex: RegExp) => boolean

t.test('safe-regex2 shim: exactly find-my-way\'s constant expressions, each safe by the real module; nothing else', async t => {
  const source = await readFile(require.resolve('find-my-way'), 'utf8')
  const constants = [...source.matchAll(/^const (OPTIONAL_PARAM_REGEXP|ESCAPE_REGEXP|REMOVE_DUPLICATE_SLASHES_REGEXP) = \/(.+)\/g?$/gm)]
  t.equal(constants.length, 3, 'find-my-way still declares the three constants')
  for (const [, name, body] of constants) {
    const regex = new RegExp(body as string)
    t.equal(realSafe(regex), true, `${name} is safe by safe-regex2`)
    t.equal(shim(regex), true, `${name} is known to the shim`)
  }
  t.throws(() => shim(/^(a+)+$/), 'an unknown expression is refused, never waved through')
})

t.test('ip-address shim throws if @fastify/rate-limit ever falls back to its default key generator', async t => {
  const { Address6 } = require('../../scripts/bundle/shims/ip-address.cjs') as { Address6: new (ip: string) => unknown }
  t.throws(() => new Address6('::1'), /not in the Lambda bundle/)
})

t.test('semver shim: the same answers as semver for every range form plugins declare, refuses others', async t => {
  const shim = require('../../scripts/bundle/shims/semver.cjs') as { satisfies: (v: string, r: string, o?: object) => boolean, gt: (a: string, b: string) => boolean, coerce: (v: string) => string | null }
  const real = require('semver') as { satisfies: (v: string, r: string, o?: object) => boolean, gt: (a: string, b: string) => boolean, coerce: (v: string) => { version: string } | null }
  const fastifyVersion = (require('fastify/package.json') as { version: string }).version
  const versions = [fastifyVersion, '5.0.0', '5.12.8', '4.29.1', '4.0.0', '3.0.0', '2.10.0', '2.9.9', '0.10.0', '0.9.0', '6.0.0', '0.0.3', '0.1.4', '1.2.3', '5.0.0-rc.1', '5.1.0-alpha.2']
  const ranges = ['5.x', '5.x.x', '5', '5.1', '4.x', '^5.0.0', '^4.0.0', '^0.1.2', '^0.0.3', '>=0.10.0', '>=5.0.0', '<=2.10.0', '>4.0.0', '<5.0.0', '5.12.8', '=5.0.0', '4.x || 5.x', '>=4.0.0 <6.0.0', '*', 'x']
  for (const version of versions) {
    for (const range of ranges) {
      for (const includePrerelease of [false, true]) {
        if (version.includes('-') && includePrerelease && range.startsWith('^')) continue // prerelease carets are never declared
        t.equal(shim.satisfies(version, range, { includePrerelease }), real.satisfies(version, range, { includePrerelease }), `${version} ${range} includePrerelease=${includePrerelease}`)
      }
    }
    t.equal(shim.coerce(version), real.coerce(version)?.version ?? null, `coerce ${version}`)
    for (const other of ['5.0.0', '4.29.1', '6.0.0']) t.equal(shim.gt(version, other), real.gt(version, other), `gt ${version} ${other}`)
  }
  // Forms no plugin declares: refused outright, never waved through.
  for (const unsupported of ['~5.1.0', '5.0.0 - 6.0.0', '>=5', 'latest']) t.throws(() => shim.satisfies('5.0.0', unsupported), `${unsupported} is refused`)
  // Malformed ranges semver never satisfies: refused too.
  for (const malformed of ['x.5', 'x.0.5', '*.1', '5.x.3', '05.x', '5.012.8', '<=12.8.00', '<999999999999999999999.0.0']) {
    t.equal(real.satisfies('5.0.0', malformed), false, `${malformed}: semver does not accept it`)
    t.throws(() => shim.satisfies('5.0.0', malformed), `${malformed} is refused`)
  }
  t.throws(() => shim.satisfies('05.0.0', '5.x'), /Invalid Version/)
  t.throws(() => shim.satisfies('not-a-version', '5.x'), /Invalid Version/)
})

t.test('http2 on first use: fastify/lib/server.js calls only the two functions it forwards, which are the real module\'s, loaded on the first call', async t => {
  const source = await readFile(require.resolve('fastify/lib/server.js'), 'utf8')
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  t.same([...new Set([...code.matchAll(/\bhttp2\.(\w+)/g)].map(m => m[1]))].sort(), ['createSecureServer', 'createServer'], 'server.js uses no other member of http2')
  const { execFileSync } = await import('node:child_process')
  const shimPath = require.resolve('../../scripts/bundle/shims/http2-on-first-use.cjs')
  const probe = `const shim = require(${JSON.stringify(shimPath)});
const before = process.moduleLoadList.some(m => m === 'NativeModule http2');
const server = shim.createServer();
const real = require('node:http2');
console.log(JSON.stringify({ before, after: process.moduleLoadList.some(m => m === 'NativeModule http2'), same: Object.getPrototypeOf(server) === Object.getPrototypeOf(real.createServer()), secure: typeof shim.createSecureServer({ allowHTTP1: true }).listen }))`
  const result = JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' })) as Record<string, unknown>
  t.same(result, { before: false, after: true, same: true, secure: 'function' }, 'not loaded by requiring the shim; a real Http2Server once called')
})
