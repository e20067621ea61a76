// Loads the bundled app (one CommonJS file) through V8's code cache. Compiling the 1.2 MB bundle and then
// compiling each function lazily as the first request reaches it is the largest part of a cold start;
// `npm run build` runs the bundle once on a realistic first request and saves V8's bytecode for every
// function that ran, so a cold start deserialises instead of parsing and compiling.
//
// A cache is used only when it was built from this very bundle (SHA-256 of the source: V8 itself checks
// only the source's length, so a stale cache could otherwise run old bytecode) on the same platform,
// architecture and V8 version as the running process; V8 then checks its version and the flags that shape
// bytecode (the heap-size flags Lambda derives from the function's memory among them) and rejects the rest. A missing,
// mismatched or rejected cache costs nothing but speed: the bundle is compiled from source as without it.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'

/** What a cache was built for (written next to it as `<bundle>.cache.json`). */
export interface CodeCacheFingerprint {
  /** SHA-256 (hex) of the bundle's source. */
  source: string
  platform: string
  arch: string
  v8: string
  node: string
  /** The process's Node/V8 command-line flags (Lambda sets heap sizes from the function's memory). */
  execArgv: string[]
}

export type CodeCacheStatus =
  | 'accepted' // V8 used it
  | 'rejected' // V8 refused it (another V8 build or other flags)
  | 'mismatch' // built for another platform, architecture or V8 version: not given to V8 at all
  | 'stale' // built from another bundle: not given to V8 at all
  | 'absent' // no cache shipped (or it could not be read)

export interface LoadedBundle {
  exports: Record<string, unknown>
  codeCache: { status: CodeCacheStatus, builtFor?: CodeCacheFingerprint | undefined, runningOn: CodeCacheFingerprint }
  /** V8's data for every function compiled so far: call after a warm-up to cache lazily compiled code too. */
  createCachedData: () => Buffer
  fingerprint: CodeCacheFingerprint
}

const sha256 = (source: Buffer): string => createHash('sha256').update(source).digest('hex')

export function currentFingerprint (source: Buffer): CodeCacheFingerprint {
  return { source: sha256(source), platform: process.platform, arch: process.arch, v8: process.versions.v8, node: process.version, execArgv: [...process.execArgv] }
}

export const cachePaths = (bundleFile: string): { data: string, fingerprint: string } => ({ data: `${bundleFile}.cache`, fingerprint: `${bundleFile}.cache.json` })

function readCache (bundleFile: string, runningOn: CodeCacheFingerprint): { data?: Buffer, builtFor?: CodeCacheFingerprint, status?: CodeCacheStatus } {
  const paths = cachePaths(bundleFile)
  let builtFor: CodeCacheFingerprint
  let data: Buffer
  try {
    builtFor = JSON.parse(readFileSync(paths.fingerprint, 'utf8')) as CodeCacheFingerprint
    data = readFileSync(paths.data)
  } catch {
    return { status: 'absent' }
  }
  if (builtFor.source !== runningOn.source) return { builtFor, status: 'stale' }
  if (builtFor.platform !== runningOn.platform || builtFor.arch !== runningOn.arch || builtFor.v8 !== runningOn.v8) return { builtFor, status: 'mismatch' }
  return { data, builtFor }
}

/** Runs a CommonJS bundle as `require()` would, compiled with its code cache when one fits. */
export function loadBundle (bundleFile: string, options: { useCache?: boolean } = {}): LoadedBundle {
  const source = readFileSync(bundleFile)
  const runningOn = currentFingerprint(source)
  const cache = options.useCache === false ? { status: 'absent' as const } : readCache(bundleFile, runningOn)
  const script = new Script(Module.wrap(source.toString('utf8')), { filename: bundleFile, ...(cache.data === undefined ? {} : { cachedData: cache.data }) })
  const status: CodeCacheStatus = cache.status ?? (script.cachedDataRejected === true ? 'rejected' : 'accepted')
  const module = { exports: {} as Record<string, unknown> }
  const compiled = script.runInThisContext() as (...args: unknown[]) => void
  compiled.call(module.exports, module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile))
  return { exports: module.exports, codeCache: { status, builtFor: cache.builtFor, runningOn }, createCachedData: () => script.createCachedData(), fingerprint: runningOn }
}

/** Writes the cache and its fingerprint next to the bundle (the build's warm-up calls this). */
export function saveCodeCache (bundleFile: string, loaded: LoadedBundle): number {
  const paths = cachePaths(bundleFile)
  const data = loaded.createCachedData()
  writeFileSync(paths.data, data)
  writeFileSync(paths.fingerprint, JSON.stringify(loaded.fingerprint, null, 2) + '\n')
  return data.length
}
