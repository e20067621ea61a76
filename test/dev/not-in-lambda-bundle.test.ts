// The development IdP and the gatehouse command are local only: nothing reachable from the Lambda entry
// points may import src/dev or src/cli.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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
  t.test(`${entry} never reaches src/dev or src/cli`, async t => {
    const path = resolve(root, entry)
    if (!existsSync(path)) { t.pass(`${entry} does not exist yet`); return }
    const files = [...reachable(path)].map(f => relative(root, f))
    t.ok(files.length > 1, `followed ${files.length} files`)
    t.same(files.filter(f => f.startsWith('src/dev/') || f.startsWith('src/cli/')), [])
  })
}
