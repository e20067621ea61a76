// The code-cache loader (src/lambda-code-cache.ts) on a small CommonJS bundle, each step in a fresh Node
// process with a clean environment, as the Lambda runtime would load it: a cache is used when it fits, and
// anything that does not fit (other flags, another platform, a changed bundle, a damaged file) is never
// given to V8 or is refused by it, and the bundle still runs.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cachePaths } from '../../src/lambda-code-cache.ts'

const LOADER = new URL('../../src/lambda-code-cache.ts', import.meta.url).pathname
const HEAP_FLAGS = ['--max-semi-space-size=51', '--max-old-space-size=922']

const bundleSource = (answer: number): string => `'use strict'
const { basename } = require('node:path')
function compute (n) { let total = 0; for (let i = 0; i < n; i++) total += i % 7; return total }
module.exports = { answer: () => ${answer}, file: basename(__filename), sum: compute(1000), word: () => 'gatehouse-constant' }
`

/** Loads the bundle in a new process (optionally saving its cache) and reports what it saw. */
async function load (bundle: string, flags: string[], save = false): Promise<{ status: string, answer: number, file: string, sum: number }> {
  const script = `import { loadBundle, saveCodeCache } from ${JSON.stringify(LOADER)}
const loaded = loadBundle(${JSON.stringify(bundle)}${save ? ', { useCache: false }' : ''})
const { answer, file, sum, word } = loaded.exports
const seen = { status: loaded.codeCache.status, answer: answer(), file, sum }
if (word() !== 'gatehouse-constant') throw new Error('word')
${save ? `saveCodeCache(${JSON.stringify(bundle)}, loaded)` : ''}
process.stdout.write(JSON.stringify(seen))`
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', script], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { err += d })
    child.on('exit', code => code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)))
  })
}

async function freshBundle (t: Test, answer = 42): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-code-cache-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const bundle = join(dir, 'app.cjs')
  await writeFile(bundle, bundleSource(answer))
  await load(bundle, HEAP_FLAGS, true)
  return bundle
}

t.test('without a cache the bundle runs as require() would run it', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-code-cache-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const bundle = join(dir, 'app.cjs')
  await writeFile(bundle, bundleSource(7))
  t.same(await load(bundle, []), { status: 'absent', answer: 7, file: 'app.cjs', sum: 2997 })
})

t.test('a cache built with the same flags is accepted; the fingerprint names the build', async t => {
  const bundle = await freshBundle(t)
  t.same(await load(bundle, HEAP_FLAGS), { status: 'accepted', answer: 42, file: 'app.cjs', sum: 2997 })
  const fingerprint = JSON.parse(await readFile(cachePaths(bundle).fingerprint, 'utf8'))
  t.match(fingerprint, { platform: process.platform, arch: process.arch, v8: process.versions.v8, execArgv: HEAP_FLAGS })
  t.match(fingerprint.source, /^[0-9a-f]{64}$/)
  t.match(fingerprint.cache, /^[0-9a-f]{64}$/)
})

t.test('other heap flags (another memory size): V8 rejects the cache and the bundle still runs', async t => {
  const bundle = await freshBundle(t)
  t.same(await load(bundle, []), { status: 'rejected', answer: 42, file: 'app.cjs', sum: 2997 })
  t.same(await load(bundle, ['--max-semi-space-size=102', '--max-old-space-size=1844']), { status: 'rejected', answer: 42, file: 'app.cjs', sum: 2997 })
})

t.test('a cache built on another architecture is never given to V8', async t => {
  const bundle = await freshBundle(t)
  const path = cachePaths(bundle).fingerprint
  const fingerprint = JSON.parse(await readFile(path, 'utf8'))
  await writeFile(path, JSON.stringify({ ...fingerprint, arch: fingerprint.arch === 'arm64' ? 'x64' : 'arm64' }))
  t.same(await load(bundle, HEAP_FLAGS), { status: 'mismatch', answer: 42, file: 'app.cjs', sum: 2997 })
})

t.test('a cache from another bundle of the same length is refused (V8 alone would accept it)', async t => {
  const bundle = await freshBundle(t, 42)
  await writeFile(bundle, bundleSource(43)) // same length, other code
  // What V8 checks by itself: the source length, so it takes the stale cache.
  const script = `const { Script } = require('node:vm'); const { wrap } = require('node:module'); const fs = require('node:fs')
const s = new Script(wrap(fs.readFileSync(${JSON.stringify(bundle)}, 'utf8')), { cachedData: fs.readFileSync(${JSON.stringify(cachePaths(bundle).data)}) })
process.stdout.write(String(s.cachedDataRejected))`
  const v8Alone = await run(script)
  t.equal(v8Alone, 'false', 'V8 accepts a cache built from other code of the same length')
  t.same(await load(bundle, HEAP_FLAGS), { status: 'stale', answer: 43, file: 'app.cjs', sum: 2997 }, 'the loader refuses it and runs the new code')
})

/** Runs a script in a fresh process (with the heap flags unless told otherwise; ES module if asked); its stdout. */
async function run (script: string, { flags = HEAP_FLAGS, module = false }: { flags?: readonly string[], module?: boolean } = {}): Promise<string> {
  return await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [...flags, ...(module ? ['--input-type=module'] : []), '-e', script], { env: { PATH: process.env.PATH } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.on('exit', () => resolve(out))
  })
}

t.test('damaged cache bytes are never given to V8 (V8 alone runs them: it does not checksum code caches)', async t => {
  const bundle = await freshBundle(t)
  const cacheFile = cachePaths(bundle).data
  const original = await readFile(cacheFile)
  const at = original.indexOf('gatehouse-constant')
  t.ok(at > 0, 'the string constant is in the cache')
  const damaged = Buffer.from(original)
  damaged.write('GATEHOUSE', at)
  await writeFile(cacheFile, damaged)
  const v8Alone = await run(`const { Script } = require('node:vm'); const { wrap } = require('node:module'); const fs = require('node:fs')
const s = new Script(wrap(fs.readFileSync(${JSON.stringify(bundle)}, 'utf8')), { cachedData: fs.readFileSync(${JSON.stringify(cacheFile)}) })
const m = { exports: {} }; s.runInThisContext()(m.exports, require, m, 'app.cjs', '.')
process.stdout.write(s.cachedDataRejected + ' ' + m.exports.word())`)
  t.equal(v8Alone, 'false GATEHOUSE-constant', 'V8 accepts the damaged cache and runs code that is not in the bundle')
  const loaded = await run(`import { loadBundle } from ${JSON.stringify(LOADER)}
const l = loadBundle(${JSON.stringify(bundle)}); process.stdout.write(l.codeCache.status + ' ' + l.exports.word())`, { module: true })
  t.equal(loaded, 'damaged gatehouse-constant', 'the loader refuses it and runs the bundle\'s own code')
  await truncate(cacheFile, 100)
  t.same(await load(bundle, HEAP_FLAGS), { status: 'damaged', answer: 42, file: 'app.cjs', sum: 2997 }, 'a truncated cache too')
})

t.test('a fingerprint file of the wrong shape is damaged, never a crash', async t => {
  const bundle = await freshBundle(t)
  const path = cachePaths(bundle).fingerprint
  const good = JSON.parse(await readFile(path, 'utf8'))
  const { execArgv: _, ...withoutFlags } = good
  for (const text of ['{not json', 'null', '"x"', '[]', '{}', JSON.stringify(withoutFlags), JSON.stringify({ ...good, execArgv: [1] }), JSON.stringify({ ...good, source: 7 })]) {
    await writeFile(path, text)
    t.same(await load(bundle, HEAP_FLAGS), { status: 'damaged', answer: 42, file: 'app.cjs', sum: 2997 }, text.slice(0, 40))
  }
})

t.test('stack traces point where require() would point (line 1 columns included)', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-code-cache-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const bundle = join(dir, 'app.cjs')
  await writeFile(bundle, 'module.exports = () => { throw new Error("boom") }\n')
  const out = await run(`import { loadBundle } from ${JSON.stringify(LOADER)}
import { createRequire } from 'node:module'
const frame = (f) => { try { f() } catch (e) { return e.stack.split('\\n')[1].trim() } }
process.stdout.write(JSON.stringify([frame(createRequire(import.meta.url)(${JSON.stringify(bundle)})), frame(loadBundle(${JSON.stringify(bundle)}).exports)]))`, { flags: [], module: true })
  const [viaRequire, viaLoader] = JSON.parse(out) as [string, string]
  t.match(viaRequire, /app\.cjs:1:32\)?$/)
  t.equal(viaLoader, viaRequire)
})

t.test('a FIFO or a device in place of a cache file is damaged, never a hang or an endless read', async t => {
  const bundle = await freshBundle(t)
  const { data, fingerprint } = cachePaths(bundle)
  await unlink(data)
  await symlink('/dev/zero', data)
  t.same(await load(bundle, HEAP_FLAGS), { status: 'damaged', answer: 42, file: 'app.cjs', sum: 2997 }, 'cache → /dev/zero')
  await unlink(fingerprint)
  execFileSync('mkfifo', [fingerprint])
  t.same(await load(bundle, HEAP_FLAGS), { status: 'damaged', answer: 42, file: 'app.cjs', sum: 2997 }, 'fingerprint is a FIFO')
})
