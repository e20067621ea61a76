// The dependency rule (docs/architecture.md, "Module structure"): routes → plugins → rules (src/oauth,
// src/mcp) → ports ← adapters (src/store, src/crypto, src/upstream, src/aws). Read from the import statements of
// every source file, so a new import that points back up fails here, not in a review.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const SRC = join(ROOT, 'src')

async function sourceFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter(e => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')).map(e => join(e.parentPath, e.name))
}

/** Every module a file imports: static, re-exported and dynamic; relative ones as paths under src/. */
function importsOf (file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map(m => (m[1] ?? m[2]) as string)
  return specifiers.map(s => s.startsWith('.') ? relative(SRC, resolve(dirname(file), s)) : s)
}

const files = await sourceFiles(SRC)
const graph = new Map<string, string[]>()
for (const file of files) graph.set(relative(SRC, file), importsOf(file, await readFile(file, 'utf8')))

const inside = (area: string) => (path: string): boolean => path === area || path.startsWith(`${area}/`)

function offending (from: (path: string) => boolean, forbidden: (spec: string) => boolean): string[] {
  const found: string[] = []
  for (const [path, imports] of graph) {
    if (!from(path)) continue
    for (const spec of imports) if (forbidden(spec)) found.push(`${path} → ${spec}`)
  }
  return found
}

t.test('the scanner sees the imports it checks (a rule over nothing would pass vacuously)', async t => {
  t.ok(graph.size > 50, `${graph.size} source files read`)
  t.ok(graph.get('app.ts')?.includes('compose.ts'), 'app.ts imports the composition root')
  t.ok(graph.get('oauth/authorize.ts')?.some(s => s.startsWith('ports/')), 'the rules import ports')
})

t.test('src/ports imports nothing but other ports', async t => {
  t.same(offending(inside('ports'), spec => !inside('ports')(spec)), [])
})

t.test('the OAuth rules (src/oauth) import neither Fastify, nor the AWS SDK, nor an adapter, route or plugin', async t => {
  const frameworks = (spec: string): boolean => /^(fastify|@fastify\/|fastify-plugin|@aws-sdk\/)/.test(spec)
  const upward = (spec: string): boolean => ['store', 'crypto', 'upstream', 'aws', 'routes', 'plugins', 'pages', 'gateway', 'compose.ts', 'app.ts'].some(area => inside(area)(spec))
  t.same(offending(inside('oauth'), spec => frameworks(spec) || upward(spec)), [])
})

t.test('the MCP rules (src/mcp) import no Fastify, no AWS SDK, no route or plugin', async t => {
  const forbidden = (spec: string): boolean => /^(fastify|@fastify\/|fastify-plugin|@aws-sdk\/)/.test(spec) || ['routes', 'plugins', 'app.ts', 'compose.ts'].some(area => inside(area)(spec))
  t.same(offending(inside('mcp'), forbidden), [])
})

t.test('adapters (src/store, src/crypto, src/upstream, src/aws) implement ports and import no rules above the errors, no routes, no plugins', async t => {
  const adapter = (path: string): boolean => ['store', 'crypto', 'upstream', 'aws'].some(area => inside(area)(path))
  // oauth/errors.ts is the shared vocabulary of client-visible failures; anything else in src/oauth is a rule.
  const upward = (spec: string): boolean => (inside('oauth')(spec) && spec !== 'oauth/errors.ts') || ['mcp', 'routes', 'plugins', 'pages', 'gateway', 'app.ts', 'compose.ts'].some(area => inside(area)(spec))
  t.same(offending(adapter, upward), [])
})

t.test('plugins and pages import no routes; nothing imports the app or a route except the app and the entry points', async t => {
  t.same(offending(path => inside('plugins')(path) || inside('pages')(path), inside('routes')), [])
  const entry = (path: string): boolean => path === 'app.ts' || path.startsWith('lambda') || inside('routes')(path) || inside('cli')(path) || inside('dev')(path)
  t.same(offending(path => !entry(path), spec => spec === 'app.ts' || inside('routes')(spec)), [])
})

t.test('only config.ts reads process.env (and the entry points, which run before the config is loaded)', async t => {
  const readers: string[] = []
  for (const file of files) {
    const path = relative(SRC, file)
    if (path === 'config.ts' || path.startsWith('lambda') || inside('cli')(path) || inside('dev')(path)) continue
    if (/process\.env\b/.test((await readFile(file, 'utf8')).replace(/\/\/.*$/gm, ''))) readers.push(path)
  }
  t.same(readers, [])
})
