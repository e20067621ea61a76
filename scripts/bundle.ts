// `npm run build`: bundles src/lambda.ts into one CommonJS file for nodejs22.x (dist/lambda/app.cjs), adds
// the entry that loads it through V8's code cache (index.cjs, from src/lambda-entry.ts) and the cache itself
// (scripts/code-cache.ts), and zips them for Terraform.
// CommonJS because Lambda loads it with require(), which cold-starts faster than import().
import { build, type Plugin } from 'esbuild'
import { readFileSync, realpathSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { deflateRawSync, crc32, gzipSync } from 'node:zlib'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cachePaths } from '../src/lambda-code-cache.ts'
import { buildCodeCache, codeCacheTarget, readPreviousCodeCache, type CodeCacheResult } from './code-cache.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const DIST = join(root, 'dist')
const shim = (name: string): string => join(root, 'scripts', 'bundle', 'shims', `${name}.cjs`)

/** A minimal ZIP (deflated files, no directories) so no zip tool or extra Terraform provider is needed. */
function zip (files: Array<{ name: string, data: Buffer }>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const { name, data } of files) {
    const deflated = deflateRawSync(data, { level: 9 })
    const nameBytes = Buffer.from(name)
    const crc = crc32(data)
    // Fixed timestamp (1980-01-01) so identical input gives an identical zip and source_code_hash.
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0, 6); local.writeUInt16LE(8, 8)
    local.writeUInt16LE(0, 10); local.writeUInt16LE(0x21, 12); local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(deflated.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nameBytes.length, 26); local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(0x0314, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0, 8)
    central.writeUInt16LE(8, 10); central.writeUInt16LE(0, 12); central.writeUInt16LE(0x21, 14); central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(deflated.length, 20); central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nameBytes.length, 28)
    central.writeUInt16LE(0, 30); central.writeUInt16LE(0, 32); central.writeUInt16LE(0, 34); central.writeUInt16LE(0, 36)
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); central.writeUInt32LE(offset, 42)
    locals.push(local, nameBytes, deflated)
    centrals.push(central, nameBytes)
    offset += local.length + nameBytes.length + deflated.length
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(0, 4); end.writeUInt16LE(0, 6); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(centralSize, 12); end.writeUInt32LE(offset, 16); end.writeUInt16LE(0, 20)
  return Buffer.concat([...locals, ...centrals, end])
}

/**
 * npm installs a package again under each dependent it cannot hoist for (fast-uri 4.2.3 sits under both
 * @fastify/ajv-compiler and fast-json-stringify, beside a top-level 3.x), and esbuild bundles every copy.
 * Copies of one tarball (the same integrity in npm's node_modules/.package-lock.json) are the same files:
 * this resolves each to the copy whose path sorts first, so it is bundled once. Other versions stay apart.
 */
export function oneCopyPerTarball (projectRoot: string = root): Plugin {
  return {
    name: 'one-copy-per-tarball',
    setup (build) {
      const packages = (JSON.parse(readFileSync(join(projectRoot, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { integrity?: string }> }).packages
      const copies = new Map<string, string[]>()
      for (const [path, { integrity }] of Object.entries(packages)) if (integrity !== undefined) copies.set(integrity, [...(copies.get(integrity) ?? []), path])
      /** Install directory (real path, as esbuild resolves) → the directory of the copy bundled instead. */
      const sameAs = new Map<string, string>()
      const names = new Set<string>()
      for (const paths of copies.values()) {
        if (paths.length < 2) continue
        const [kept, ...others] = paths.sort().map(path => realpathSync(join(projectRoot, path)))
        for (const other of others) sameAs.set(other, kept as string)
        names.add(paths[0]!.slice(paths[0]!.lastIndexOf('node_modules/') + 'node_modules/'.length))
      }
      if (names.size === 0) return
      const escaped = [...names].map(name => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      build.onResolve({ filter: new RegExp(`^(${escaped.join('|')})(/|$)`) }, async args => {
        if (args.pluginData === 'one-copy-per-tarball') return undefined
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'one-copy-per-tarball' })
        for (const [other, kept] of sameAs) {
          if (resolved.path.startsWith(other + '/')) return { ...resolved, path: kept + resolved.path.slice(other.length) }
        }
        return resolved
      })
    }
  }
}

/**
 * `node:http2` on first use for fastify/lib/server.js (scripts/bundle/shims/http2-on-first-use.cjs): a per-importer
 * replacement, which `alias` cannot express; every other importer (none today) gets the real module.
 */
export function http2OnFirstUse (): Plugin {
  return {
    name: 'http2-on-first-use',
    setup (build) {
      build.onResolve({ filter: /^(node:)?http2$/ }, args => /[\\/]fastify[\\/]lib[\\/]server\.js$/.test(args.importer) ? { path: shim('http2-on-first-use') } : undefined)
    }
  }
}

export interface BundleResult {
  /** What the runtime requires (`index.handler`). */
  bundlePath: string
  appPath: string
  zipPath: string
  /** JavaScript shipped (entry + app), raw and gzip. */
  bytes: number
  gzipBytes: number
  codeCache: CodeCacheResult | { built: false, reason: string }
}

/** Both outputs: one minified CommonJS file each, for the nodejs22.x runtime. */
export const COMMON = { bundle: true, platform: 'node', target: 'node22', format: 'cjs', minify: true, legalComments: 'none', logLevel: 'warning' } as const

export async function bundle (options: { codeCache?: boolean, /** Default dist/; a test that must not race another build passes its own. */ outDir?: string } = {}): Promise<BundleResult> {
  const outDir = options.outDir ?? DIST
  const lambdaDir = join(outDir, 'lambda')
  const entryPath = join(lambdaDir, 'index.cjs')
  const appPath = join(lambdaDir, 'app.cjs')
  const previousCache = await readPreviousCodeCache(appPath)
  await rm(lambdaDir, { recursive: true, force: true })
  await mkdir(lambdaDir, { recursive: true })
  await build({
    ...COMMON,
    entryPoints: [join(root, 'src', 'lambda.ts')],
    outfile: appPath,
    // `BUNDLE_SOURCEMAP=1 npm run build` maps a cold-start profile back to the sources (BENCHMARKS.md).
    sourcemap: process.env.BUNDLE_SOURCEMAP === '1' ? 'external' : false,
    // `await import('@aws-sdk/…')` of an external package would go through the ESM loader, which runs
    // cjs-module-lexer over the SDK client's CommonJS to find its exports (≈ 8 ms for client-kms). Marking
    // dynamic import unsupported makes esbuild emit `Promise.resolve().then(() => require(…))` instead.
    supported: { 'dynamic-import': false },
    // The embedded emulator and the development IdP never run in Lambda (config refuses them). The AWS SDK
    // v3 ships with the nodejs22.x runtime: leaving it out keeps the bundle (and cold start) small.
    external: ['dynalite', 'oidc-provider', '@aws-sdk/*', '@smithy/*'],
    // Bundle-only stand-ins (scripts/bundle/shims/, each tested against the real module in
    // test/scripts/bundle-shims.test.ts): fastify's plugin version checks through a small semver of the
    // range forms plugins declare; no pino transport worker (the Lambda logs to stdout).
    alias: {
      semver: shim('semver'),
      'thread-stream': shim('thread-stream'),
      // @fastify/rate-limit's default key generator only; ours replaces it (src/plugins/rate-limits.ts).
      'ip-address': shim('ip-address'),
      // find-my-way's check of regular-expression route parameters; gatehouse declares none.
      'safe-regex2': shim('safe-regex2')
    },
    // src/store/embedded.ts reads import.meta.url only when it starts the emulator, which Lambda never does.
    logOverride: { 'empty-import-meta': 'silent' },
    plugins: [oneCopyPerTarball(), http2OnFirstUse()]
  })
  await build({ ...COMMON, entryPoints: [join(root, 'src', 'lambda-entry.ts')], outfile: entryPath })
  const codeCache = options.codeCache === false ? { built: false as const, reason: 'not requested' } : await buildCodeCache(appPath, codeCacheTarget(), undefined, previousCache)
  const files = [entryPath, appPath, ...(codeCache.built ? [cachePaths(appPath).data, cachePaths(appPath).fingerprint] : [])]
  const contents = await Promise.all(files.map(async file => ({ name: basename(file), data: await readFile(file) })))
  const zipPath = join(outDir, 'lambda.zip')
  await writeFile(zipPath, zip(contents))
  const js = Buffer.concat(contents.filter(file => file.name.endsWith('.cjs')).map(file => file.data))
  return { bundlePath: entryPath, appPath, zipPath, bytes: js.length, gzipBytes: gzipSync(js).length, codeCache }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await bundle()
  const cache = result.codeCache.built
    ? `code cache ${(result.codeCache.bytes / 1024).toFixed(0)} KB for ${result.codeCache.target.architecture}, ${result.codeCache.target.memorySize} MB${result.codeCache.reused ? ' (the previous build\'s: same bundle)' : ''}`
    : `no code cache: ${result.codeCache.reason}`
  console.log(`bundle ${dirname(result.bundlePath)}: ${(result.bytes / 1024).toFixed(0)} KB JavaScript (${(result.gzipBytes / 1024).toFixed(0)} KB gzip); ${cache}\nzip    ${result.zipPath} (${((await stat(result.zipPath)).size / 1024).toFixed(0)} KB)`)
}
