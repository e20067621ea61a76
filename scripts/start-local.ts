// `npm start`: runs gatehouse locally, with no AWS account: the development IdP (its own process) and the
// app through the Fastify CLI (`fastify start`), which starts the embedded DynamoDB-compatible store
// itself. Prints the MCP URL and the demo users; Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { loadConfig, ConfigError, type Config } from '../src/config.ts'
import { devIdpClientSecret } from '../src/dev/client-secret.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const children: ChildProcess[] = []
let stopping = false

function stopAll (code: number): void {
  if (stopping) return
  stopping = true
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  const timer = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    process.exit(code)
  }, 5000)
  timer.unref()
  void Promise.all(children.map(c => c.exitCode !== null ? undefined : new Promise(resolve => c.once('exit', resolve)))).then(() => process.exit(code))
}

process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))

function run (name: string, args: string[], readyLine?: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping`)
      stopAll(code === 0 ? 1 : (code ?? 1))
    }
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  return new Promise((resolve) => {
    if (readyLine === undefined) resolve(child)
    lines.on('line', (line) => {
      process.stdout.write(`${line}\n`)
      if (readyLine?.test(line) === true) resolve(child)
    })
  })
}

async function waitForHealth (url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`${url}/healthz`)
      if (res.ok) return
    } catch { /* not up yet */ }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`gatehouse did not become healthy at ${url} within ${timeoutMs / 1000}s`)
}

let config: Config
try {
  config = loadConfig()
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
}

if (config.upstream.devIdp) {
  let idpClientSecret: string
  try {
    idpClientSecret = await devIdpClientSecret(config)
  } catch (error) {
    console.error(`UPSTREAM_CLIENT_SECRET_ARN: ${(error as Error).message}`)
    process.exit(1)
  }
  await run('dev-idp', [
    join(root, 'src', 'dev', 'main.ts'),
    '--port', String(config.devIdpPort),
    '--client-id', config.upstream.clientId,
    '--client-secret', idpClientSecret,
    '--redirect-uri', `${config.publicUrl}/callback`
  ], /^dev-idp ready /)
}

await run('gatehouse', [
  join(root, 'node_modules', 'fastify-cli', 'cli.js'), 'start',
  '--options', '--address', config.host, '--port', String(config.port), '--log-level', config.logLevel,
  join(root, 'src', 'app.ts')
])
await waitForHealth(config.publicUrl, 60000)

console.log(`
  gatehouse is running
    MCP URL:        ${config.resourceUrl}
    issuer:         ${config.publicUrl}
    identity:       ${config.upstream.devIdp ? `development IdP at ${config.upstream.issuer} (local only)` : config.upstream.issuer}
    store:          ${config.store.embedded ? `embedded DynamoDB-compatible store in ${config.dataDir}/` : `DynamoDB table ${config.store.table} at ${config.store.endpoint ?? `the ${config.store.region} endpoint`}`} (GATEHOUSE_STORE=${config.store.embedded ? 'embedded' : 'dynamodb'})
${config.upstream.devIdp ? '    demo users:     alice / alice (groups engineering, admins), bob / bob (no groups)\n' : ''}
  Connect MCP Inspector (npx @modelcontextprotocol/inspector) or Claude to ${config.resourceUrl}
  Press Ctrl-C to stop.
`)
