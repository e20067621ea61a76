// gatehouse/resource-server as another project gets it (issue 14, part 3): the kit built as the package ships
// it (scripts/build-resource-server.ts, what `npm pack` runs as prepack), placed under a separate directory's
// node_modules/gatehouse with this repository's package.json, and imported by plain JavaScript with type
// stripping off, as Node treats any package under node_modules. It verifies a token gatehouse issued (JWKS
// from a listening gatehouse) and refuses one for another audience.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, copyFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildResourceServer } from '../../scripts/build-resource-server.ts'
import { buildTestApp, freePort } from '../support/app.ts'
import { mintToken } from '../support/tokens.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const CONSUMER = `import Fastify from 'fastify'
import gatehouseResourceServer, { metadataUrl } from 'gatehouse/resource-server'
const app = Fastify()
await app.register(gatehouseResourceServer, JSON.parse(process.env.KIT_OPTIONS))
app.get('/whoami', { preHandler: app.gatehouseAuthenticate }, async request => request.gatehouseAuth)
await app.listen({ host: '127.0.0.1', port: Number(process.env.KIT_PORT) })
process.stdout.write(JSON.stringify({ metadata: metadataUrl(JSON.parse(process.env.KIT_OPTIONS).resource) }) + '\\n')
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
`

t.test('the packaged kit, from another directory, in plain Node: a gatehouse token in, a foreign one out', async t => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>, files: string[], scripts: Record<string, string> }
  const exported = pkg.exports['./resource-server'] as Record<string, string>
  t.same(Object.keys(exported).slice(-2), ['types', 'default'], 'types, then default, last in the export conditions')
  t.equal(exported.default, './dist/resource-server/index.js')
  t.equal(exported.types, './dist/resource-server/index.d.ts')
  t.ok(pkg.files.includes('dist/resource-server/'), 'the built kit is in the packed files (dist/ is git-ignored)')
  t.match(pkg.scripts.prepack, /build-resource-server/, 'npm pack builds it')

  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-kit-consumer-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const installed = join(dir, 'node_modules', 'gatehouse')
  const built = await buildResourceServer({ outDir: join(installed, 'dist', 'resource-server') })
  await copyFile(join(root, 'package.json'), join(installed, 'package.json'))
  t.match(await readFile(built.dts, 'utf8'), /export default gatehouseResourceServer|declare const _default|export default/, 'declarations emitted')
  // The consumer's own dependencies (the kit's peers), from this repository's install.
  for (const dep of ['fastify', 'fastify-plugin', 'jose', 'lru-cache']) await symlink(join(root, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir')
  await mkdir(join(dir, 'app'))
  await writeFile(join(dir, 'app', 'server.mjs'), CONSUMER)

  const { app, config, url } = await buildTestApp(t, { listen: true })
  const { ctx } = app.gatehouse
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const child = spawn(process.execPath, ['--no-experimental-strip-types', join(dir, 'app', 'server.mjs')], {
    cwd: join(dir, 'app'),
    env: { PATH: process.env.PATH, KIT_PORT: String(port), KIT_OPTIONS: JSON.stringify({ resource, issuer: url }) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(async () => { if (child.exitCode === null) { const exited = new Promise(resolve => child.once('exit', resolve)); child.kill('SIGTERM'); await exited } })
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')))
    child.once('exit', code => reject(new Error(`the consumer exited (${String(code)})`)))
  })
  t.same(JSON.parse(ready), { metadata: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp` })

  const services = { config, store: ctx.store, keys: ctx.keys, cipher: ctx.cipher, clock: ctx.clock }
  const own = await mintToken(services, { resource, sub: 'alice', groups: ['engineering'] })
  const ok = await fetch(`http://127.0.0.1:${port}/whoami`, { headers: { authorization: `Bearer ${own.token}` } })
  t.equal(ok.status, 200)
  t.match(await ok.json(), { sub: 'alice', groups: ['engineering'], clientId: 'test-client' })
  const foreign = await mintToken(services, { sub: 'alice' })
  const refused = await fetch(`http://127.0.0.1:${port}/whoami`, { headers: { authorization: `Bearer ${foreign.token}` } })
  t.equal(refused.status, 401, 'a token for gatehouse\'s own /mcp is refused')
  t.match(refused.headers.get('www-authenticate'), /error="invalid_token"/)
})
