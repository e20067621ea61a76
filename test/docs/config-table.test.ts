// docs/configuration.md lists every environment variable that src/config.ts accepts, with the default and
// description the schema declares: the table there must be exactly what scripts/config-table.ts generates.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Type } from 'typebox'
import { EnvSchema } from '../../src/config.ts'
import { BEGIN_MARKER, CONFIG_DOC, END_MARKER, configTable, main, tableIn, withTable } from '../../scripts/config-table.ts'

const SCRIPT = fileURLToPath(new URL('../../scripts/config-table.ts', import.meta.url))

t.test('docs/configuration.md holds the table the schema generates (run `node scripts/config-table.ts --write`)', async t => {
  t.equal(tableIn(await readFile(CONFIG_DOC, 'utf8')), configTable())
})

t.test('every variable of EnvSchema has a row and a description', async t => {
  const table = configTable()
  for (const name of Object.keys(EnvSchema.properties)) t.match(table, `| \`${name}\` |`, name)
  t.equal(table.split('\n').length, Object.keys(EnvSchema.properties).length + 2)
})

t.test('no description names a variable the schema does not have', async t => {
  // KMS key specs, not variables.
  const known = new Set([...Object.keys(EnvSchema.properties), 'RSA_2048', 'SIGN_VERIFY'])
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const mentioned = ((schema as { description?: string }).description ?? '').match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? []
    for (const other of mentioned) t.ok(known.has(other), `${name} mentions ${other}`)
  }
})

t.test('rows: defaults, empty defaults, literal unions, integer ranges, escaped pipes', async t => {
  const schema = Type.Object({
    A: Type.String({ default: 'x|y', description: 'has a | pipe\nand a newline' }),
    B: Type.String({ default: '', description: 'empty list' }),
    C: Type.Optional(Type.String({ description: 'no default' })),
    D: Type.Union([Type.Literal('one'), Type.Literal('two')], { default: 'one', description: 'a choice' }),
    E: Type.Integer({ default: 5, minimum: 1, maximum: 9, description: 'a number' }),
    F: Type.Integer({ default: 5, description: 'unbounded' })
  })
  t.equal(configTable(schema as never), [
    '| variable | default | description |',
    '|---|---|---|',
    '| `A` | `x\\|y` | has a \\| pipe and a newline |',
    '| `B` | (empty) | empty list |',
    '| `C` | — | no default |',
    '| `D` | `one` | a choice (one of `one`, `two`) |',
    '| `E` | `5` | a number (integer 1–9) |',
    '| `F` | `5` | unbounded |'
  ].join('\n'))
})

t.test('a variable without a description is refused', async t => {
  const schema = Type.Object({ A: Type.String({ description: 'fine' }), B: Type.String(), C: Type.String({ description: ' ' }) })
  t.throws(() => configTable(schema as never), /no description for B, C/)
})

t.test('markers: the table is replaced between them, and a missing marker is an error', async t => {
  const document = `# title\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nafter\n`
  t.equal(withTable(document, 'new'), `# title\n\n${BEGIN_MARKER}\nnew\n${END_MARKER}\n\nafter\n`)
  t.equal(tableIn(withTable(document, 'new')), 'new')
  t.throws(() => tableIn('no markers'), /marker not found: <!-- config-table:begin/)
  t.throws(() => tableIn(`${BEGIN_MARKER} no end`), /marker not found after the begin marker/)
  t.throws(() => tableIn(`${END_MARKER} ${BEGIN_MARKER}`), /marker not found after the begin marker/)
  t.throws(() => withTable('no markers', 'x'), /marker not found/)
})

t.test('main prints the table, and --write rewrites the document', async t => {
  t.equal(await main([]), configTable())
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-table-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'configuration.md')
  await writeFile(file, `intro\n${BEGIN_MARKER}\nstale\n${END_MARKER}\n`)
  t.match(await main(['--write'], file), /wrote the configuration table/)
  t.equal(tableIn(await readFile(file, 'utf8')), configTable())
})

t.test('the script prints the table when run', async t => {
  const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT])
  t.equal(stdout, `${configTable()}\n`)
})
