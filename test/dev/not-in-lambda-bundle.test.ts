// The development IdP and the gatehouse command are local only: nothing reachable from the Lambda entry
// points may import src/dev or src/cli. Nor anything under test/: the conformance suite's reference fixtures
// (test/support/conformance-fixtures.ts) are registered only by the tests' app, and the Lambda bundle that
// scripts/bundle.ts builds must not hold any of them.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundle } from '../../scripts/bundle.ts'
import { FIXTURE_MARKER } from '../support/conformance-fixtures.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Every .ts file reachable from `entry` through relative imports, static or dynamic. */
function reachable (entry: string): Set<string> {
  const seen = new Set<string>()
  const pending = [entry]
  while (pending.length > 0) {
    const file = pending.pop()!
    if (seen.has(file) || !existsSync(file)) continue
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const m of source.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) pending.push(resolve(dirname(file), m[1]!))
  }
  return seen
}

for (const entry of ['src/app.ts', 'src/lambda.ts']) {
  t.test(`${entry} never reaches src/dev, src/cli or test/`, async t => {
    const path = resolve(root, entry)
    if (!existsSync(path)) { t.pass(`${entry} does not exist yet`); return }
    const files = [...reachable(path)].map(f => relative(root, f))
    t.ok(files.length > 1, `followed ${files.length} files`)
    t.same(files.filter(f => f.startsWith('src/dev/') || f.startsWith('src/cli/') || !f.startsWith('src/')), [])
  })
}

t.test('the Lambda bundle holds none of the conformance fixtures', async t => {
  const outDir = await mkdtemp(join(tmpdir(), 'gatehouse-bundle-'))
  t.teardown(() => rm(outDir, { recursive: true, force: true }))
  const { appPath, bundlePath } = await bundle({ codeCache: false, outDir })
  const shipped = (await readFile(appPath, 'utf8')) + (await readFile(bundlePath, 'utf8'))
  t.ok(shipped.includes('query_data') && shipped.includes('io.modelcontextprotocol/serverInfo'), 'the bundle is the app: its tools and the 2026 wire are in it')
  // Names only the fixture module has: its marker, reference tools, resources and prompts, its requestState key.
  for (const fixture of [FIXTURE_MARKER, 'conformance-fixtures', 'test_simple_text', 'test_sampling', 'test_input_required_result', 'test_missing_capability', 'test://static-text', 'test_simple_prompt', 'json_schema_2020_12_tool', 'test_reconnection', 'requestState integrity']) {
    t.notOk(shipped.includes(fixture), `no ${fixture}`)
  }
})
