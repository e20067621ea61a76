// The token command's pieces that the end-to-end test does not reach: where the cache lives, a damaged
// cache file, and the registration choices (a client ID metadata document only when the server says it
// supports them; no registration endpoint; protected resource metadata without an authorization server).
import t from 'tap'
import { createServer, type Server } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CliError, isoTime } from '../../src/cli/io.ts'
import { discover, registerClient, revoke } from '../../src/cli/oauth-client.ts'
import { configDir, TokenCache } from '../../src/cli/token-cache.ts'
import { freePort } from '../support/app.ts'

t.test('the cache lives in $GATEHOUSE_CONFIG_DIR, else $XDG_CONFIG_HOME/gatehouse, else ~/.config/gatehouse', async t => {
  t.equal(configDir({ GATEHOUSE_CONFIG_DIR: '/x' }), '/x')
  t.equal(configDir({ XDG_CONFIG_HOME: '/cfg' }), '/cfg/gatehouse')
  t.equal(configDir({ HOME: '/home/u' }), '/home/u/.config/gatehouse')
  t.equal(isoTime(undefined), '-')
  t.equal(isoTime(1_750_000_000), '2025-06-15T15:06:40Z')
})

t.test('a cache file that is not JSON is refused with what to do; a new one is created 0600', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cache-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cache = new TokenCache(dir)
  t.equal(await cache.find('http://x/mcp'), undefined)
  await cache.saveClient('http://as', { client_id: 'c', kind: 'registered' })
  t.same(await cache.client('http://as'), { client_id: 'c', kind: 'registered' })
  await writeFile(cache.path, '{oops', { mode: 0o600 })
  await t.rejects(cache.find('http://x/mcp'), new CliError(`the token cache ${cache.path} is not valid JSON; delete it and sign in again`))
})

t.test('registration: a metadata document URL only when advertised; no registration endpoint is explained', async t => {
  const as = { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/authorize', token_endpoint: 'https://as.example/token' }
  await t.rejects(registerClient(as, 'https://app.example/client.json'), /does not support client ID metadata documents; run without --client-id-url/)
  t.same(await registerClient({ ...as, client_id_metadata_document_supported: true }, 'https://app.example/client.json'), { client_id: 'https://app.example/client.json', kind: 'metadata-document' })
  await t.rejects(registerClient(as, undefined), /offers no dynamic client registration; pass a client ID metadata document URL with --client-id-url/)
  t.equal(await revoke({ issuer: as.issuer, resource: 'r', token_endpoint: as.token_endpoint, client: { client_id: 'c', kind: 'registered' }, refresh_token: 'rt' }), false, 'no revocation endpoint: nothing to call')
})

t.test('protected resource metadata that names no authorization server, or none at all behind a 401', async t => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let prm: unknown = { resource: `${base}/mcp` }
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/oauth-protected-resource/mcp') { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(prm)); return }
    res.writeHead(401).end()
  })
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  await t.rejects(discover(`${base}/mcp`), /names no authorization server/)
  prm = { resource: 'https://elsewhere.example/mcp', authorization_servers: [base] }
  await t.rejects(discover(`${base}/mcp`), /its protected resource metadata is unusable/)
  prm = { resource: `${base}/mcp`, authorization_servers: [`http://127.0.0.1:${await freePort()}`] }
  await t.rejects(discover(`${base}/mcp`), /has no usable OAuth metadata \(RFC 8414\)/)
})
