// `gatehouse admin` against the embedded store: listing clients and grants (by user through the user
// index, by client through a scan), revoking a grant, a user's grants, a client with its grants (each
// revoking the upstream session and auditing), signing keys, and unused registrations expiring and pruned.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN_USAGE, runAdmin, type AdminServices } from '../../src/cli/admin.ts'
import { CliError, type CliIo } from '../../src/cli/io.ts'
import { main } from '../../src/cli/main.ts'
import { LocalCipher, LocalKeySet } from '../../src/crypto/index.ts'
import { extendClientLife, registerClient } from '../../src/oauth/clients.ts'
import type { AuditEventName } from '../../src/ports/audit.ts'
import type { GrantRecord } from '../../src/ports/records.ts'
import { createFakeClock, startTestStore } from '../support/store.ts'
import { T0, grant as grantFixture, identity } from '../store/fixtures.ts'

const DAY = 86400
const clock = createFakeClock(T0)
const { store } = await startTestStore(t, { clock })
const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))
const cipher = await LocalCipher.open(dataDir)
const keys = await LocalKeySet.open({ dataDir, clock })
const revokedUpstream: string[] = []
const audit: Array<{ name: AuditEventName, fields: Record<string, unknown> }> = []
let upstreamFails = false
const services: AdminServices = {
  store,
  clock,
  cipher,
  keys,
  upstream: { revoke: async token => { if (upstreamFails) throw new Error('idp down'); revokedUpstream.push(token) } } as AdminServices['upstream'],
  audit: { event: (name, fields) => { audit.push({ name, fields }) } },
  keySource: { kind: 'local', dataDir }
}
const rules = { clients: store, clock, scopes: ['mcp:read', 'mcp:write'], redirectSchemes: [], unusedClientTtl: 30 * DAY }

function capture (): CliIo & { lines: string[], errors: string[] } {
  const lines: string[] = []
  const errors: string[] = []
  return { lines, errors, out: l => { lines.push(l) }, err: l => { errors.push(l) } }
}

async function admin (...argv: string[]): Promise<string[]> {
  const io = capture()
  await runAdmin(argv, io, services)
  return io.lines
}

async function grantFor (clientId: string, sub: string, upstreamRefresh?: string): Promise<GrantRecord> {
  const grantId = `g-${Math.random().toString(36).slice(2)}`
  const record = grantFixture({ grantId, clientId, identity: { ...identity, sub }, createdAt: clock.now(), expiresAt: clock.now() + 90 * DAY })
  record.upstreamSealed = await cipher.seal(JSON.stringify({ accessToken: 'up-at', ...(upstreamRefresh === undefined ? {} : { refreshToken: upstreamRefresh }) }), `grant:${grantId}`)
  await store.saveGrant(record)
  return record
}

t.test('a registered client expires CLIENT_UNUSED_DAYS after registration unless a grant keeps it; prune removes it at once', async t => {
  const { client: unused } = await registerClient({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', client_name: 'unused' }, rules)
  const { client: used } = await registerClient({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', client_name: 'used' }, rules)
  t.equal(unused.expiresAt, T0 + 33 * DAY, 'expires 30 days after registration, plus a tenth of headroom')
  // A grant keeps its client at least as long as the grant lives (its refresh tokens need the client).
  await extendClientLife(used, T0 + 90 * DAY, rules)
  t.equal((await store.findClient(used.clientId))?.expiresAt, T0 + 93 * DAY, 'the grant\'s end, plus the headroom')
  // Never shortened, and not written when not due.
  await extendClientLife({ ...used, expiresAt: T0 + 93 * DAY }, T0 + 10 * DAY, rules)
  await extendClientLife({ ...used, expiresAt: T0 + 93 * DAY }, T0 + 93 * DAY, rules)
  t.equal((await store.findClient(used.clientId))?.expiresAt, T0 + 93 * DAY)
  // The store itself never shortens one either.
  await store.extendClient(used.clientId, T0 + 10 * DAY)
  t.equal((await store.findClient(used.clientId))?.expiresAt, T0 + 93 * DAY)
  // A provisioned client (expiresAt 0) never starts to expire; a zero lifetime changes nothing.
  await store.saveClient({ ...used, clientId: 'provisioned', expiresAt: 0 })
  await extendClientLife({ ...used, clientId: 'provisioned', expiresAt: 0 }, T0 + 90 * DAY, rules)
  await extendClientLife(unused, T0 + 90 * DAY, { ...rules, unusedClientTtl: 0 })
  t.equal((await store.findClient('provisioned'))?.expiresAt, 0)
  const { client: forever } = await registerClient({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }, { ...rules, unusedClientTtl: 0 })
  t.equal(forever.expiresAt, 0, 'CLIENT_UNUSED_DAYS=0: never')

  clock.advance(34 * DAY)
  t.equal(await store.findClient(unused.clientId), undefined, 'expired: invisible before any pruning')
  const listed = await admin('clients')
  t.notOk(listed.some(l => l.includes(unused.clientId)), 'not listed')
  t.ok(listed.some(l => l.includes(used.clientId) && l.includes('used')), 'the used one is')
  t.same(JSON.parse((await admin('prune', '--json')).join('\n')), { removed: [unused.clientId] })
  t.same(await admin('prune'), ['removed 0 unused client(s)'], 'nothing left to prune')
  t.ok(audit.some(e => e.name === 'client.removed' && e.fields.clientId === unused.clientId && e.fields.reason === 'unused'))
  // Extending an expired client does nothing (it is gone).
  await store.extendClient(unused.clientId, T0 + 365 * DAY)
  t.equal(await store.findClient(unused.clientId), undefined)
  clock.set(T0)
})

t.test('grants by user and by client; revoke one grant, a user, a client with its grants', async t => {
  const { client: app } = await registerClient({ redirect_uris: ['http://127.0.0.1:7777/cb'], token_endpoint_auth_method: 'none', client_name: 'Claude Desktop' }, rules)
  const { client: other } = await registerClient({ redirect_uris: ['https://other.example/cb'], token_endpoint_auth_method: 'none', client_name: 'Other' }, rules)
  const a1 = await grantFor(app.clientId, 'alice', 'up-rt-a1')
  const a2 = await grantFor(other.clientId, 'alice', 'up-rt-a2')
  const b1 = await grantFor(app.clientId, 'bob')
  const cimd = await grantFor('https://client.example/metadata.json', 'carol', 'up-rt-c')

  const alice = JSON.parse((await admin('grants', '--user', 'alice', '--json')).join('\n')) as Array<Record<string, unknown>>
  t.same(alice.map(g => g.grantId).sort(), [a1.grantId, a2.grantId].sort())
  t.match(alice.find(g => g.grantId === a1.grantId), { clientName: 'Claude Desktop', redirectHosts: ['127.0.0.1:7777'], sub: 'alice', scope: ['mcp:read', 'mcp:write'] })
  const byClient = await admin('grants', '--client', app.clientId)
  t.equal(byClient.length, 2)
  t.ok(byClient.every(l => l.includes('Claude Desktop') && l.includes('active')))
  t.same(await admin('grants', '--user', 'nobody'), ['no grants'])
  t.match((await admin('grants', '--user', 'carol'))[0], 'https://client.example/metadata.json')

  t.match((await admin('revoke-grant', a1.grantId))[0], `revoked grant ${a1.grantId} of alice (client ${app.clientId}); upstream session: revoked`)
  t.same(revokedUpstream, ['up-rt-a1'])
  t.ok((await store.findGrant(a1.grantId))?.revokedAt, 'revoked in the store')
  const aliceLines = await admin('grants', '--user', 'alice')
  t.equal(aliceLines.filter(l => l.endsWith('\tactive')).length, 1, 'the admin still sees the revoked grant, marked so')
  t.match(aliceLines.find(l => l.startsWith(a1.grantId)), /\trevoked \d{4}-/)
  // Revoking again is harmless and does not call the IdP again.
  t.match((await admin('revoke-grant', a1.grantId))[0], 'upstream session: none')
  t.same(revokedUpstream, ['up-rt-a1'])

  upstreamFails = true
  const carol = JSON.parse((await admin('revoke-user', 'carol', '--json')).join('\n'))
  t.match(carol, [{ grantId: cimd.grantId, upstream: 'failed' }], 'the grant is revoked even when the IdP fails')
  upstreamFails = false
  t.ok(audit.some(e => e.name === 'grant.upstream_revoked' && e.fields.upstreamRevocation === 'failed'))

  const aliceRevoked = await admin('revoke-user', 'alice')
  t.equal(aliceRevoked[0], 'revoked 1 grant(s) of alice', 'only the live one')

  t.same(await admin('remove-client', app.clientId), [`removed client ${app.clientId}; revoked 1 grant(s)`])
  t.equal(await store.findClient(app.clientId), undefined)
  t.ok((await store.findGrant(b1.grantId))?.revokedAt, "bob's grant of the removed client is revoked")
  t.ok(audit.some(e => e.name === 'grant.revoked' && e.fields.reason === 'client_removed' && e.fields.grantId === b1.grantId))
  t.ok(audit.some(e => e.name === 'client.removed' && e.fields.clientId === app.clientId))
  await t.rejects(admin('remove-client', app.clientId), new CliError(`no client ${app.clientId} (unknown or expired)`))
  await t.rejects(admin('revoke-grant', 'no-such-grant'), /no grant no-such-grant/)
  t.match(JSON.parse((await admin('remove-client', other.clientId, '--json')).join('\n')), { clientId: other.clientId, removed: true })
})

t.test('keys shows each signing key with its status and where it lives', async t => {
  const lines = await admin('keys')
  t.equal(lines.length, 1)
  t.match(lines[0], new RegExp(`^${keys.current.kid}\\tRS256\\tcurrent \\(signs new tokens\\)\\tlocal \\(${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`))
  const kms: AdminServices = {
    ...services,
    keySource: { kind: 'kms', currentKeyId: 'arn:aws:kms:us-east-1:1:key/new', previousKeyIds: ['arn:aws:kms:us-east-1:1:key/old'] },
    keys: { current: keys.current, publicKeys: async () => [...await keys.publicKeys(), { ...(await keys.publicKeys())[0]!, kid: 'old' }] }
  }
  const io = capture()
  await runAdmin(['keys', '--json'], io, kms)
  t.match(JSON.parse(io.lines.join('\n')), [
    { status: 'current (signs new tokens)', source: 'kms arn:aws:kms:us-east-1:1:key/new' },
    { kid: 'old', status: 'previous (verifies tokens still live)', source: 'kms arn:aws:kms:us-east-1:1:key/old' }
  ])
})

t.test('usage errors exit 2 and show the usage', async t => {
  for (const argv of [[], ['nope'], ['grants'], ['grants', '--user', 'a', '--client', 'b'], ['revoke-grant'], ['revoke-user', ''], ['remove-client']]) {
    const error = await runAdmin(argv, capture(), services).then(() => undefined, (e: unknown) => e)
    t.type(error, CliError, argv.join(' '))
    t.equal((error as CliError).exitCode, 2)
    t.match((error as CliError).message, ADMIN_USAGE)
  }
})

t.test('gatehouse admin opens the store the configuration names (the embedded one here)', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-main-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const env = { GATEHOUSE_DATA_DIR: dir, UPSTREAM_ISSUER: 'http://127.0.0.1:9', UPSTREAM_CLIENT_SECRET: 'x' }
  const io = capture()
  t.equal(await main(['admin', 'clients'], io, env), 0)
  t.same(io.lines, ['no registered clients'])
  const keysIo = capture()
  t.equal(await main(['admin', 'keys'], keysIo, env), 0)
  t.match(keysIo.lines[0], /current \(signs new tokens\)\tlocal/)
  const bad = capture()
  t.equal(await main(['admin', 'revoke-grant', 'nope'], bad, env), 1)
  t.match(bad.errors[0], 'gatehouse: no grant nope')
  const usage = capture()
  t.equal(await main(['admin'], usage, env), 2)
  t.equal(await main(['admin', 'help'], usage, env), 0)
  t.match(usage.lines[0], 'usage: gatehouse admin')
  const config = capture()
  t.equal(await main(['admin', 'clients'], config, { ...env, CLIENT_UNUSED_DAYS: '-1' }), 1)
  t.match(config.errors[0], 'CLIENT_UNUSED_DAYS')
  const top = capture()
  t.equal(await main([], top, env), 2)
  t.equal(await main(['wat'], top, env), 2)
  t.equal(await main(['help'], top, env), 0)
  t.match(top.errors.join('\n'), 'unknown command wat')
  t.equal(await main(['admin', 'grants', '--bogus'], top, env), 2, 'an unknown option is a usage error')
})
