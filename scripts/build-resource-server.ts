// `npm run build:resource-server` (and `prepack`, so `npm pack` and git installs get it): the resource-server
// kit as plain JavaScript for other projects, dist/resource-server/index.js (ESM; fastify-plugin, jose and
// lru-cache stay imports, resolved from the consumer's node_modules) and its declarations index.d.ts.
// package.json exports `gatehouse/resource-server` as these files: Node does not strip types from a package
// under node_modules, so the TypeScript source cannot be the export. The Lambda bundle (scripts/bundle.ts)
// does not use this and is not touched (dist/lambda/).
import { build } from 'esbuild'
import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ENTRY = join(root, 'src', 'resource-server', 'index.ts')

/** Builds into `outDir` (default dist/resource-server); returns the two files' paths. */
export async function buildResourceServer (options: { outDir?: string } = {}): Promise<{ js: string, dts: string }> {
  const outDir = options.outDir ?? join(root, 'dist', 'resource-server')
  await rm(outDir, { recursive: true, force: true })
  const js = join(outDir, 'index.js')
  await build({ entryPoints: [ENTRY], outfile: js, bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node22', legalComments: 'none', logLevel: 'warning' })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  await promisify(execFile)(process.execPath, [tsc, '--ignoreConfig', ENTRY, '--declaration', '--emitDeclarationOnly', '--outDir', outDir,
    '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'ES2023', '--types', 'node', '--strict', '--skipLibCheck',
    '--allowImportingTsExtensions', '--verbatimModuleSyntax', '--isolatedModules'], { cwd: root })
  return { js, dts: join(outDir, 'index.d.ts') }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { js, dts } = await buildResourceServer()
  process.stdout.write(`${js}\n${dts}\n`)
}
