// Loads the bundled app (one CommonJS file) through V8's code cache. Compiling the 1.2 MB bundle and then
// compiling each function lazily as the first request reaches it is the largest part of a cold start;
// `npm run build` runs the bundle once on a realistic first request and saves V8's bytecode for every
// function that ran, so a cold start deserialises instead of parsing and compiling.
//
// A cache is given to V8 only when its fingerprint file says it was built from this very bundle (SHA-256:
// V8 itself checks only the source's length, so a stale cache would run old bytecode), its own bytes hash
// to what the build recorded (release V8 does not checksum code caches: a damaged one can run wrong code or
// crash), and it was built on the same platform, architecture and V8 version. V8 then checks its version
// and the flags that shape bytecode (the heap-size flags Lambda derives from the function's memory among
// them) and rejects the rest. A missing, damaged, mismatched or rejected cache costs nothing but speed:
// the bundle is compiled from source as without it.
import { createHash } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'

/** A process and the bundle it runs, as far as a code cache cares. */
export interface CodeCacheFingerprint {
  /** SHA-256 (hex) of what V8 compiles: the bundle's bytes inside the CommonJS wrapper. */
  source: string
  platform: string
  arch: string
  v8: string
  node: string
  /** The process's Node/V8 command-line flags (Lambda sets heap sizes from the function's memory). */
  execArgv: string[]
}

/** The fingerprint file written next to a cache (`<bundle>.cache.json`). */
export interface CodeCacheRecord extends CodeCacheFingerprint {
  /** SHA-256 (hex) of the cache's bytes. */
  cache: string
}

export type CodeCacheStatus =
  | 'accepted' // V8 used it
  | 'rejected' // V8 refused it (another V8 build or other flags)
  | 'mismatch' // built for another platform, architecture or V8 version: not given to V8
  | 'stale' // built from another bundle: not given to V8
  | 'damaged' // unreadable fingerprint, or cache bytes that are not the ones built: not given to V8
  | 'absent' // no cache shipped

export interface LoadedBundle {
  exports: Record<string, unknown>
  codeCache: { status: CodeCacheStatus, builtFor?: CodeCacheRecord | undefined, runningOn: CodeCacheFingerprint }
  /** V8's data for every function compiled so far: call after a warm-up to cache lazily compiled code too. */
  createCachedData: () => Buffer
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

// Module.wrap() puts the CommonJS wrapper around the source. The fingerprint covers the wrapper too (V8
// checks only the length of what it compiles), and a negative column offset keeps stack-trace columns
// (and source maps) on line 1 where plain require() reports them.
const [WRAPPER_PREFIX = '', WRAPPER_SUFFIX = ''] = Module.wrap('\u0000').split('\u0000')

/** SHA-256 of the wrapped source V8 compiles, from the bundle's bytes (the wrapper is ASCII). */
export function compiledSourceHash (bundle: Buffer): string {
  return createHash('sha256').update(WRAPPER_PREFIX).update(bundle).update(WRAPPER_SUFFIX).digest('hex')
}

export function currentFingerprint (source: Buffer): CodeCacheFingerprint {
  return { source: compiledSourceHash(source), platform: process.platform, arch: process.arch, v8: process.versions.v8, node: process.version, execArgv: [...process.execArgv] }
}

export const cachePaths = (bundleFile: string): { data: string, fingerprint: string } => ({ data: `${bundleFile}.cache`, fingerprint: `${bundleFile}.cache.json` })

const isString = (value: unknown): value is string => typeof value === 'string'

/** The fingerprint file's content if it has exactly the expected shape; undefined for anything else. */
export function parseCodeCacheRecord (text: string): CodeCacheRecord | undefined {
  let value: unknown
  try { value = JSON.parse(text) } catch { return undefined }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const r = value as Record<string, unknown>
  const fields = [r.source, r.cache, r.platform, r.arch, r.v8, r.node]
  if (!fields.every(isString) || !Array.isArray(r.execArgv) || !r.execArgv.every(isString)) return undefined
  return { source: r.source as string, cache: r.cache as string, platform: r.platform as string, arch: r.arch as string, v8: r.v8 as string, node: r.node as string, execArgv: [...r.execArgv] as string[] }
}

type CacheLookup = { data: Buffer, builtFor: CodeCacheRecord } | { status: CodeCacheStatus, builtFor?: CodeCacheRecord }

const MAX_FINGERPRINT_BYTES = 64 * 1024
const MAX_CACHE_BYTES = 64 * 1024 * 1024

/**
 * The file's bytes if it is a regular file of at most `max` bytes; 'missing' if there is none; 'unusable'
 * for anything else (a FIFO or a device could block or never end).
 */
function readRegularFile (path: string, max: number): Buffer | 'missing' | 'unusable' {
  const stat = statSync(path, { throwIfNoEntry: false })
  if (stat === undefined) return 'missing'
  if (!stat.isFile() || stat.size > max) return 'unusable'
  return readFileSync(path)
}

function readCache (bundleFile: string, runningOn: CodeCacheFingerprint): CacheLookup {
  const paths = cachePaths(bundleFile)
  const file = readRegularFile(paths.fingerprint, MAX_FINGERPRINT_BYTES)
  if (file === 'missing') return { status: 'absent' }
  const builtFor = file === 'unusable' ? undefined : parseCodeCacheRecord(file.toString('utf8'))
  if (builtFor === undefined) return { status: 'damaged' }
  if (builtFor.source !== runningOn.source) return { builtFor, status: 'stale' }
  if (builtFor.platform !== runningOn.platform || builtFor.arch !== runningOn.arch || builtFor.v8 !== runningOn.v8) return { builtFor, status: 'mismatch' }
  const data = readRegularFile(paths.data, MAX_CACHE_BYTES)
  if (typeof data === 'string' || sha256(data) !== builtFor.cache) return { builtFor, status: 'damaged' }
  return { data, builtFor }
}

/** Runs a CommonJS bundle as `require()` would, compiled with its code cache when one fits. */
export function loadBundle (bundleFile: string, options: { useCache?: boolean } = {}): LoadedBundle {
  const source = readFileSync(bundleFile)
  const runningOn = currentFingerprint(source)
  let cache: CacheLookup
  try {
    cache = options.useCache === false ? { status: 'absent' } : readCache(bundleFile, runningOn)
  } catch {
    cache = { status: 'damaged' } // whatever went wrong, the cache is not used
  }
  const cachedData = 'data' in cache ? cache.data : undefined
  const script = new Script(Module.wrap(source.toString('utf8')), { filename: bundleFile, columnOffset: -WRAPPER_PREFIX.length, ...(cachedData === undefined ? {} : { cachedData }) })
  const status: CodeCacheStatus = 'status' in cache ? cache.status : script.cachedDataRejected === true ? 'rejected' : 'accepted'
  const module = { exports: {} as Record<string, unknown> }
  const compiled = script.runInThisContext() as (...args: unknown[]) => void
  compiled.call(module.exports, module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile))
  return { exports: module.exports, codeCache: { status, builtFor: cache.builtFor, runningOn }, createCachedData: () => script.createCachedData() }
}

/** Writes the cache and its fingerprint file next to the bundle (the build's warm-up calls this). */
export function saveCodeCache (bundleFile: string, loaded: LoadedBundle): number {
  const paths = cachePaths(bundleFile)
  const data = loaded.createCachedData()
  const record: CodeCacheRecord = { ...loaded.codeCache.runningOn, cache: sha256(data) }
  writeFileSync(paths.data, data)
  writeFileSync(paths.fingerprint, JSON.stringify(record, null, 2) + '\n')
  return data.length
}
