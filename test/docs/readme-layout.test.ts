// The README's code map ("Layout") names every file and folder at the top of src/ and every script, and
// nothing that does not exist: a module added, moved or removed without the map fails here.
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const block = /## Layout\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
const rows = block.split('\n').filter(line => /^\S/.test(line))
const mapped = rows.map(line => line.split(/\s+/)[0] as string)
const described = (prefix: string): string => block.split('\n').filter((line, i, all) => line.startsWith(prefix) || (!/^\S/.test(line) && all.slice(0, i).reverse().find(l => /^\S/.test(l))?.startsWith(prefix) === true)).join(' ')

t.test('the map is there', async t => {
  t.ok(rows.length > 20, `${rows.length} rows`)
})

t.test('every path in the map exists', async t => {
  for (const path of mapped) t.ok(existsSync(join(ROOT, path)), path)
})

t.test('every file and folder at the top of src/ has its row', async t => {
  for (const entry of readdirSync(join(ROOT, 'src'), { withFileTypes: true })) {
    if (entry.name.endsWith('.d.ts')) continue
    const path = entry.isDirectory() ? `src/${entry.name}/` : `src/${entry.name}`
    t.ok(mapped.includes(path), path)
  }
})

t.test('every script is named on the scripts/ row, every folder of scripts/ has its row', async t => {
  const text = described('scripts/ ')
  for (const entry of readdirSync(join(ROOT, 'scripts'), { withFileTypes: true })) {
    if (entry.isDirectory()) {
      t.ok(mapped.some(path => path.startsWith(`scripts/${entry.name}/`)), `scripts/${entry.name}/`)
      continue
    }
    const name = entry.name.endsWith('.ts') ? entry.name.slice(0, -3) : entry.name
    t.match(text, new RegExp(`(^|[\\s,(])${name.replace(/[.]/g, '\\.')}([\\s,)]|$)`), `scripts/${entry.name}`)
  }
  for (const row of mapped.filter(path => path.startsWith('scripts/') && path !== 'scripts/')) t.ok(existsSync(join(ROOT, row)), row)
})
