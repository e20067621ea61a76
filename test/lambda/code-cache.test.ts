// The code-cache loader (src/lambda-code-cache.ts) on a small CommonJS bundle, each step in a fresh Node
// process with a clean environment, as the Lambda runtime would load it: a cache is used when it fits, and
// anything that does not fit (other flags, another platform, a changed bundle, a damaged file) is never
// given to V8 or is refused by it, and the bundle still runs.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cachePaths } from '../../src/lambda-code-cache.ts'

const LOADER = new URL('../../src/lambda-code-cache.ts', import.meta.url).pathname
const HEAP_FLAGS = ['--max-semi-space-size=51', '--max-old-space-size=922']

const bundleSource = (answer: number): string => `'use strict'
const { basename } = require('node:path')
function compute (n) { let total = 0; for (let i = 0; i < n; i++) total += i % 7; return total }
module.exports = { answer: () => ${answer}, file: basename(__filename), sum: compute(1000) }
`

/** Loads the bundle in a new process (optionally saving its cache) and reports what it saw. */
async function load (bundle: string, flags: string[], save = false): Promise<{ status: string, answer: number, file: string, sum: number }> {
  const script = `import { loadBundle, saveCodeCache } from ${JSON.stringify(LOADER)}
const loaded = loadBundle(${JSON.stringify(bundle)}${save ? ', { useCache: false }' : ''})
${save ? `saveCodeCache(${JSON.stringify(bundle)}, loaded)` : ''}
process.stdout.write(JSON.stringify({ status: loaded.codeCache.status, answer: loaded.exports.answer(), file: loaded.exports.file, sum: loaded.exports.sum }))`
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
  const v8Alone = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [...HEAP_FLAGS, '-e', script], { env: { PATH: process.env.PATH } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.on('exit', () => resolve(out))
  })
  t.equal(v8Alone, 'false', 'V8 accepts a cache built from other code of the same length')
  t.same(await load(bundle, HEAP_FLAGS), { status: 'stale', answer: 43, file: 'app.cjs', sum: 2997 }, 'the loader refuses it and runs the new code')
})

t.test('a damaged cache file is rejected, not trusted', async t => {
  const bundle = await freshBundle(t)
  await truncate(cachePaths(bundle).data, 100)
  t.same(await load(bundle, HEAP_FLAGS), { status: 'rejected', answer: 42, file: 'app.cjs', sum: 2997 })
  await writeFile(cachePaths(bundle).fingerprint, '{not json')
  t.same(await load(bundle, HEAP_FLAGS), { status: 'absent', answer: 42, file: 'app.cjs', sum: 2997 })
})
