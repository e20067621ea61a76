// The gatehouse command end to end, as a person runs it: the real command (a child process) against a
// running gatehouse and the development IdP process, the browser step driven in headless Chromium. First
// run (discovery, registration, consent, login, loopback redirect), a second run from the cache, a silent
// refresh after expiry, tools and call through the MCP client, logout (RFC 7009), the --json shape, and
// each error with its message: unreachable, no OAuth metadata, consent denied, refresh token dead, port in
// use, cache file readable by others.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { freePort } from '../support/app.ts'
import { launchBrowser } from '../support/browser.ts'
import { postForm, startHarness } from '../support/oauth-harness.ts'

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const h = await startHarness(t)
const browser = await launchBrowser(t)
const mcpUrl = `${h.url}/mcp`
const configDir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'))
t.teardown(() => rm(configDir, { recursive: true, force: true }))
const cacheFile = join(configDir, 'tokens.json')

interface Run { code: number | null, stdout: string, stderr: string }

/** Runs the command; `browse` gets the sign-in URL the command prints and plays the person. */
async function gatehouse (args: string[], browse?: (url: string) => Promise<void>, env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, HOME: configDir, GATEHOUSE_CONFIG_DIR: configDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let browsing: Promise<void> | undefined
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    const url = /^(http\S+\/authorize\?\S+)$/m.exec(stderr)?.[1]
    if (url !== undefined && browse !== undefined && browsing === undefined) browsing = browse(url)
  })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  await browsing
  return { code, stdout, stderr }
}

async function person (decision: 'allow' | 'deny', username = 'alice'): Promise<(url: string) => Promise<void>> {
  return async (url: string) => {
    const context = await browser.newContext()
    const page: Page = await context.newPage()
    page.setDefaultTimeout(15_000)
    try {
      await page.goto(url)
      await page.click(`button[name="decision"][value="${decision}"]`)
      if (decision === 'allow') {
        await page.waitForSelector('input[name="username"]')
        await page.fill('input[name="username"]', username)
        await page.fill('input[name="password"]', username)
        await page.click('button[type="submit"]')
      }
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/)
      await page.waitForSelector('p')
    } finally { await context.close() }
  }
}

const readCache = async (): Promise<any> => JSON.parse(await readFile(cacheFile, 'utf8'))

let first: { access_token: string }

t.test('first run: discovers, registers once, opens the sign-in, and prints the --json shape', async t => {
  const run = await gatehouse(['token', mcpUrl, '--no-browser', '--json'], await person('allow'))
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, 'Open this URL in a browser to sign in:')
  const out = JSON.parse(run.stdout) as Record<string, unknown>
  t.same(Object.keys(out).sort(), ['access_token', 'client_id', 'expires_at', 'expires_in', 'scope', 'token_type'])
  t.equal(out.token_type, 'Bearer')
  t.ok(typeof out.expires_in === 'number' && out.expires_in > 3500 && out.expires_in <= 3600)
  t.ok(Math.abs((out.expires_at as number) - (Math.floor(Date.now() / 1000) + (out.expires_in as number))) <= 2)
  t.equal(out.scope, 'mcp:read mcp:write')
  first = out as { access_token: string }
  t.equal((await stat(cacheFile)).mode & 0o777, 0o600, 'the cache is private to its owner')
  const cache = await readCache()
  const entry = Object.values(cache.entries)[0] as Record<string, any>
  t.equal(entry.resource, mcpUrl)
  t.equal(entry.issuer, h.url)
  t.equal(entry.client.client_id, out.client_id)
  t.same(Object.keys(cache.clients), [h.url], 'the registration is kept per issuer')
  const client = await h.store.store.findClient(out.client_id as string)
  t.same(client?.redirectUris, ['http://127.0.0.1/callback'], 'a loopback redirect URI without a port (RFC 8252 §7.3)')
})

t.test('second run: from the cache, no sign-in', async t => {
  const run = await gatehouse(['token', mcpUrl])
  t.equal(run.code, 0)
  t.equal(run.stdout.trim(), first.access_token)
  t.equal(run.stderr, '')
})

t.test('tools and call use the cached token through the MCP client', async t => {
  const tools = await gatehouse(['tools', mcpUrl])
  t.equal(tools.code, 0, tools.stderr)
  t.match(tools.stdout, /^whoami\t/m)
  const call = await gatehouse(['call', mcpUrl, 'whoami'])
  t.equal(call.code, 0, call.stderr)
  t.match(call.stdout, 'alice')
  const badArgs = await gatehouse(['call', mcpUrl, 'whoami', '{not json'])
  t.equal(badArgs.code, 2)
  t.match(badArgs.stderr, 'the arguments must be a JSON object')
  const noTool = await gatehouse(['call', mcpUrl])
  t.equal(noTool.code, 2)
})

t.test('an expired access token is refreshed silently', async t => {
  const cache = await readCache()
  const key = Object.keys(cache.entries)[0] as string
  const oldRefresh = cache.entries[key].refresh_token
  cache.entries[key].expires_at = Math.floor(Date.now() / 1000) - 10
  await writeFile(cacheFile, JSON.stringify(cache), { mode: 0o600 })
  const run = await gatehouse(['token', mcpUrl])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stderr, '', 'no sign-in')
  t.not(run.stdout.trim(), first.access_token, 'a new access token')
  const after = await readCache()
  t.not(after.entries[key].refresh_token, oldRefresh, 'the refresh token rotated')
  t.ok(after.entries[key].expires_at > Math.floor(Date.now() / 1000) + 3000)
})

t.test('a cache file others can read is refused with what to do', async t => {
  await chmod(cacheFile, 0o644)
  const run = await gatehouse(['token', mcpUrl])
  t.equal(run.code, 1)
  t.match(run.stderr, `the token cache ${cacheFile} has mode 0644`)
  t.match(run.stderr, `chmod 600 ${cacheFile}`)
  await chmod(cacheFile, 0o600)
})

t.test('logout revokes (RFC 7009) and forgets', async t => {
  const before = Object.values((await readCache()).entries)[0] as Record<string, any>
  const run = await gatehouse(['logout', mcpUrl])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, `signed out of ${mcpUrl}: tokens revoked at ${h.url}`)
  t.same((await readCache()).entries, {})
  const refreshed = await postForm(`${h.url}/token`, { grant_type: 'refresh_token', refresh_token: before.refresh_token, client_id: before.client.client_id })
  t.equal(refreshed.body.error, 'invalid_grant', 'the revoked refresh token no longer works')
  const again = await gatehouse(['logout', mcpUrl])
  t.match(again.stdout, `not signed in to ${mcpUrl}`)
})

t.test('denied consent says so and saves nothing', async t => {
  const run = await gatehouse(['token', mcpUrl, '--no-browser'], await person('deny'))
  t.equal(run.code, 1)
  t.match(run.stderr, 'the sign-in was denied')
  t.same((await readCache()).entries, {})
})

t.test('a refresh token that died (revoked grant) asks for a new login', async t => {
  const login = await gatehouse(['token', mcpUrl, '--no-browser', '--json'], await person('allow'))
  t.equal(login.code, 0, login.stderr)
  const cache = await readCache()
  t.equal(Object.keys(cache.clients).length, 1, 'the client registered on the first run is reused')
  const key = Object.keys(cache.entries)[0] as string
  const claims = JSON.parse(Buffer.from(cache.entries[key].access_token.split('.')[1], 'base64url').toString()) as { gid: string }
  await h.store.store.revokeGrant(claims.gid, Math.floor(Date.now() / 1000))
  cache.entries[key].expires_at = 1
  await writeFile(cacheFile, JSON.stringify(cache), { mode: 0o600 })
  const run = await gatehouse(['token', mcpUrl])
  t.equal(run.code, 1)
  t.match(run.stderr, 'has expired or was revoked; a new login is needed')
  t.same((await readCache()).entries, {}, 'the dead tokens are forgotten')
})

t.test('a port in use is named', async t => {
  const port = await freePort()
  const blocker: Server = createServer()
  await new Promise<void>(resolve => blocker.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => blocker.close(() => resolve())))
  const run = await gatehouse(['token', mcpUrl, '--no-browser', '--port', String(port)])
  t.equal(run.code, 1)
  t.match(run.stderr, `port ${port} on 127.0.0.1 is in use`)
  const bad = await gatehouse(['token', mcpUrl, '--port', 'x'])
  t.equal(bad.code, 2)
})

t.test('an unreachable URL and a server without OAuth metadata are named', async t => {
  const dead = `http://127.0.0.1:${await freePort()}/mcp`
  const unreachable = await gatehouse(['token', dead])
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, `cannot reach ${dead}`)
  t.match(unreachable.stderr, 'check the URL and that the server is running')

  const plainPort = await freePort()
  const plain: Server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{}') })
  await new Promise<void>(resolve => plain.listen(plainPort, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => plain.close(() => resolve())))
  const noMetadata = await gatehouse(['token', `http://127.0.0.1:${plainPort}/mcp`])
  t.equal(noMetadata.code, 1)
  t.match(noMetadata.stderr, 'does not advertise OAuth protected resource metadata (RFC 9728)')

  const notUrl = await gatehouse(['token', 'not a url'])
  t.equal(notUrl.code, 2)
  t.match(notUrl.stderr, 'is not a URL')
  const none = await gatehouse(['token'])
  t.equal(none.code, 2)
  t.match(none.stderr, 'an MCP URL is required')
})
