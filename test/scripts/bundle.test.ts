// The Lambda build bundles one copy of each package tarball: npm nests identical copies of a package under
// several dependents (fast-uri 4.x under @fastify/ajv-compiler and fast-json-stringify), and esbuild would
// otherwise ship each (issue 17: ≈ 24 KB minified, 8 KB gzip).
import t from 'tap'
import { build } from 'esbuild'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { oneCopyPerTarball } from '../../scripts/bundle.ts'

const root = join(import.meta.dirname, '..', '..')

/** Package install directories (up to the last node_modules/<name>) of every bundled input. */
async function bundledPackageDirs (plugins: Parameters<typeof build>[0]['plugins']): Promise<string[]> {
  const result = await build({ entryPoints: [join(root, 'src', 'lambda.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, metafile: true, logLevel: 'silent', external: ['dynalite', 'oidc-provider', '@aws-sdk/*', '@smithy/*'], plugins })
  const dirs = new Set<string>()
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match !== null) dirs.add(match[1] as string)
  }
  return [...dirs]
}

async function integrityOf (dir: string): Promise<string | undefined> {
  const lock = JSON.parse(await readFile(join(root, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { integrity?: string }> }
  return lock.packages[dir.slice(dir.indexOf('node_modules/'))]?.integrity
}

t.test('each package tarball is bundled once; without the plugin fast-uri 4.x is bundled twice', async t => {
  const duplicated = async (dirs: string[]): Promise<string[]> => {
    const seen = new Map<string, string>()
    const twice: string[] = []
    for (const dir of dirs) {
      const integrity = await integrityOf(dir)
      if (integrity === undefined) continue
      if (seen.has(integrity)) twice.push(dir)
      else seen.set(integrity, dir)
    }
    return twice
  }
  t.same(await duplicated(await bundledPackageDirs([oneCopyPerTarball(root)])), [], 'no tarball twice')
  t.match(await duplicated(await bundledPackageDirs([])), [/node_modules\/fast-uri$/], 'the case the plugin exists for still occurs')
})
