// `npm start` as a user runs it: the script starts the development IdP and `fastify start`, the app starts
// the embedded store, the banner names the MCP URL and the demo users, and Ctrl-C stops everything.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../support/app.ts'

const START = join(import.meta.dirname, '..', '..', 'scripts', 'start-local.ts')

async function isListening (url: string): Promise<boolean> {
  try { await fetch(url, { signal: AbortSignal.timeout(1000) }); return true } catch { return false }
}

t.test('npm start runs IdP + app + store, prints the MCP URL, survives a restart with its data, and stops on SIGINT', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-start-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const port = await freePort()
  const idpPort = await freePort()
  const env = { PATH: process.env.PATH, PORT: String(port), DEV_IDP_PORT: String(idpPort), GATEHOUSE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }

  async function runOnce (): Promise<{ banner: string, stop: () => Promise<{ code: number | null, ms: number }> }> {
    const child = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { out += d })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    const deadline = Date.now() + 60000
    while (!out.includes('Press Ctrl-C to stop') && Date.now() < deadline && child.exitCode === null) await new Promise(resolve => setTimeout(resolve, 100))
    return {
      banner: out,
      stop: async () => {
        const started = Date.now()
        child.kill('SIGINT')
        const code = await exited
        return { code, ms: Date.now() - started }
      }
    }
  }

  const first = await runOnce()
  t.match(first.banner, `MCP URL:        http://127.0.0.1:${port}/mcp`)
  t.match(first.banner, 'alice / alice')
  t.match(first.banner, `store:          embedded DynamoDB-compatible store in ${dataDir}/ (GATEHOUSE_STORE=embedded)`, 'the banner says which store runs')
  t.match(first.banner, 'bob / bob')
  const registered = await fetch(`http://127.0.0.1:${port}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none' }) })
  t.equal(registered.status, 201)
  const { client_id: clientId } = await registered.json() as { client_id: string }
  const discovery = await fetch(`http://127.0.0.1:${idpPort}/.well-known/openid-configuration`)
  t.equal(discovery.status, 200, 'the development IdP answers discovery')
  const stopped = await first.stop()
  t.equal(stopped.code, 0, 'Ctrl-C exits cleanly')
  t.ok(stopped.ms < 10000, `stopped in ${stopped.ms} ms`)
  t.notOk(await isListening(`http://127.0.0.1:${port}/healthz`), 'the app port is free')
  t.notOk(await isListening(`http://127.0.0.1:${idpPort}/`), 'the IdP port is free')

  // The embedded store persisted under the data dir: the client registered before the restart still exists.
  const second = await runOnce()
  t.match(second.banner, 'gatehouse is running')
  const authorize = await fetch(`http://127.0.0.1:${port}/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`, { redirect: 'manual' })
  t.equal(authorize.status, 200, 'the client survived the restart (consent page shown)')
  t.equal((await second.stop()).code, 0)
})
