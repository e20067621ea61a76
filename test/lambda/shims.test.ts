// The bundle-only shims must stay exact: the safe-regex2 stand-in knows find-my-way's own constant
// expressions (checked against find-my-way's source and judged safe by the real module) and refuses anything
// else; the ip-address stand-in is unreachable because every rate limit uses gatehouse's key generator.
import t from 'tap'
import { createRequire } from 'node:module'
import { readFile } from 'node:fs/promises'

const require = createRequire(import.meta.url)
const shim = require('../../scripts/shims/safe-regex2.cjs') as (regex: RegExp) => boolean
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
  const { Address6 } = require('../../scripts/shims/ip-address.cjs') as { Address6: new (ip: string) => unknown }
  t.throws(() => new Address6('::1'), /not in the Lambda bundle/)
})
