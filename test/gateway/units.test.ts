// The gateway's parts on their own: the event-stream reader (WHATWG SSE), the tool policy, the backend token
// cache (fake clock, counting signer), grant-bound sessions and their sweep, static credentials by ARN.
// The static credential lives in the real AWS emulator (moto's Secrets Manager, test/support/aws-emulator.ts;
// that test alone starts it, and is skipped, counted as skipped, without moto).
import t from 'tap'
import { generateKeyPairSync, sign } from 'node:crypto'
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { formatSse, parseSse, SseTooLargeError, type SseEvent } from '../../src/gateway/sse.ts'
import { backendRefusal, filterToolsResult, ruleFor, toolAllowed } from '../../src/gateway/policy.ts'
import { BackendTokens } from '../../src/gateway/backend-token.ts'
import { GatewaySessions, type OpenSession } from '../../src/gateway/sessions.ts'
import { startGateway } from '../../src/gateway/start.ts'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import type { Caller } from '../../src/mcp/caller.ts'
import type { KeySet } from '../../src/ports/keys.ts'
import { fakeClock } from '../crypto/jwt-helpers.ts'
import { buildTestApp } from '../support/app.ts'
import { startFakeBackend } from '../support/fake-mcp-backend.ts'
import { EMULATOR_CREDENTIALS, emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'

async function * chunks (...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part)
}
async function events (parts: string[], max = 1000): Promise<SseEvent[]> {
  const out: SseEvent[] = []
  for await (const event of parseSse(chunks(...parts), max)) out.push(event)
  return out
}

const caller = (overrides: Partial<Caller> = {}): Caller => ({ sub: 'u1', email: 'u1@example.com', groups: ['eng'], scopes: ['mcp:read'], clientId: 'c1', grantId: 'g1', issuer: 'https://gh.example', expiresAt: 1_800_003_600, ...overrides })

t.test('SSE: fields, line endings split across chunks, comments, multi-line data, limits', async t => {
  t.same(await events(['event: message\r\nid: 1\r\nretry: 50\r\ndata: a\r\ndata: b\r\n\r\n']), [{ event: 'message', data: 'a\nb', id: '1', retry: '50' }])
  t.same(await events(['data: x\r', '\ndata:y\r\r']), [{ data: 'x\ny' }], 'a CR at a chunk end, then LF; a lone CR ends a line too')
  t.same(await events([': comment\n\n', 'event: ping\n\n', 'data\n\n']), [{ event: 'ping', data: '' }, { data: '' }], 'comments are skipped; a field without a colon')
  t.same(await events(['id: a\0b\nretry: soon\nunknown: 1\ndata: z\n\n']), [{ data: 'z' }], 'bad id and retry values are ignored')
  t.same(await events(['data: tail']), [], 'an unfinished last line is discarded (WHATWG)')
  t.same(await events(['data: end\n\r']), [{ data: 'end' }], 'a CR at the very end ends the line')
  t.same(await events(['data: half\n']), [], 'an event the stream never finished is dropped')
  await t.rejects(events([`data: ${'x'.repeat(2000)}\n\n`]), SseTooLargeError)
  await t.rejects(events(['x'.repeat(2500)]), SseTooLargeError, 'a line that never ends')
  t.equal(formatSse({ data: 'a\nb' }), 'data: a\ndata: b\n\n')
  t.equal(formatSse({ event: 'message', id: '7', retry: '10', data: '{}' }), 'event: message\nid: 7\nretry: 10\ndata: {}\n\n')
})

t.test('policy: exact name, then the longest prefix*, then *; scopes and groups', async t => {
  const tools = { '*': { scopes: ['mcp:read'], groups: undefined }, 'admin-*': { scopes: [], groups: ['admins'] }, 'admin-read*': { scopes: [], groups: undefined }, 'admin-reset': { scopes: ['mcp:write'], groups: ['admins'] } }
  t.equal(ruleFor(tools, 'admin-reset'), tools['admin-reset'])
  t.equal(ruleFor(tools, 'admin-readme'), tools['admin-read*'])
  t.equal(ruleFor(tools, 'admin-x'), tools['admin-*'])
  t.equal(ruleFor(tools, 'echo'), tools['*'])
  t.equal(ruleFor({}, 'echo'), undefined)
  t.ok(toolAllowed({}, caller(), 'anything'), 'no rule: allowed')
  t.ok(toolAllowed(tools, caller(), 'echo'))
  t.notOk(toolAllowed(tools, caller({ scopes: [] }), 'echo'), 'missing scope')
  t.notOk(toolAllowed(tools, caller(), 'admin-x'), 'not in the group')
  t.ok(toolAllowed(tools, caller({ groups: ['admins'] }), 'admin-x'))
  t.same(filterToolsResult({ tools: [{ name: 'echo' }, { name: 'admin-x' }, { title: 'nameless' }, null], nextCursor: 'n' }, tools, caller()), { tools: [{ name: 'echo' }], nextCursor: 'n' })
  t.equal(filterToolsResult('odd', tools, caller()), 'odd', 'anything but a tools list passes untouched')
  t.same(backendRefusal({ scopes: ['mcp:write'], groups: undefined }, caller()), { reason: 'scope', scope: 'mcp:write' })
  t.same(backendRefusal({ scopes: [], groups: ['ops'] }, caller()), { reason: 'group' })
  t.equal(backendRefusal({ scopes: ['mcp:read'], groups: ['eng'] }, caller()), undefined)
})

function countingKeys (): { keys: KeySet, signed: () => number, rotate: () => void, fail: (on: boolean) => void } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  let count = 0
  let kid = 'k1'
  let failing = false
  const keys: KeySet = {
    get current () {
      return { kid, sign: async (data: Uint8Array) => { if (failing) throw new KeyServiceError('kms down'); count++; return sign('RSA-SHA256', data, privateKey) } }
    },
    publicKeys: async () => []
  }
  return { keys, signed: () => count, rotate: () => { kid = 'k2' }, fail: on => { failing = on } }
}

t.test('backend tokens: reused while a minute is left, new after that, after a key rotation, and never past the caller\'s token', async t => {
  const clock = fakeClock()
  const k = countingKeys()
  const tokens = new BackendTokens({ keys: k.keys, clock, issuer: 'https://gh.example' })
  const who = caller({ expiresAt: clock.now() + 3600 })
  const first = await tokens.tokenFor('https://backend.example/mcp', who)
  t.equal(await tokens.tokenFor('https://backend.example/mcp', who), first, 'cached')
  t.equal(k.signed(), 1)
  await tokens.tokenFor('https://other.example/mcp', who)
  t.equal(k.signed(), 2, 'another audience is another token')
  clock.advance(241)
  t.not(await tokens.tokenFor('https://backend.example/mcp', who), first, 'less than a minute left: a new one')
  k.rotate()
  await tokens.tokenFor('https://backend.example/mcp', who)
  t.equal(k.signed(), 4, 'signed again with the new key')
  const short = caller({ grantId: 'g2', expiresAt: clock.now() + 30 })
  const claims = JSON.parse(Buffer.from((await tokens.tokenFor('https://backend.example/mcp', short)).split('.')[1] as string, 'base64url').toString())
  t.equal(claims.exp, clock.now() + 30, 'bounded by the client\'s own token')
  k.fail(true)
  await t.rejects(tokens.tokenFor('https://backend.example/mcp', caller({ grantId: 'g3' })), KeyServiceError)
  k.fail(false)
  t.ok(await tokens.tokenFor('https://backend.example/mcp', caller({ grantId: 'g3' })), 'a failed signing is not remembered')
})

t.test('sessions: bound to grant and backend; a key-service outage is not a refusal; the sweep ends what it must', async t => {
  const clock = fakeClock()
  const sealed = new Map<string, { value: string, context: string }>()
  let outage = false
  let opens = 0
  const cipher = {
    seal: async (value: string, context: string) => { const id = `s${sealed.size}`; sealed.set(id, { value, context }); return id },
    open: async (id: string, context: string) => {
      opens++
      if (outage) throw new KeyServiceError('kms down')
      const entry = sealed.get(id)
      if (entry === undefined || entry.context !== context) throw new Error('does not open')
      return entry.value
    }
  }
  const grants = new Map<string, { revokedAt?: number }>([['g1', {}], ['g2', {}]])
  let storeDown = false
  const ended: string[] = []
  const options = {
    cipher,
    clock,
    grants: { findGrant: async (id: string) => { if (storeDown) throw new Error('down'); const g = grants.get(id); return g === undefined ? undefined : { grantId: id, clientId: 'c1', identity: { sub: 'u1', groups: [] }, scope: [], resource: 'r', createdAt: 0, expiresAt: clock.now() + 100, ...g } } },
    end: async (session: OpenSession) => { ended.push(session.backendSessionId); if (session.backendSessionId === 'b3') throw new Error('backend gone') }
  }
  const sessions = new GatewaySessions(options)
  /** Another gatehouse instance: same key and store, none of the first one's memory. */
  const other = new GatewaySessions({ ...options, end: async () => {} })
  const s1 = await sessions.bind('everything', caller(), 'b1')
  const s2 = await sessions.bind('everything', caller({ grantId: 'g2' }), 'b2')
  const s3 = await sessions.bind('everything', caller({ grantId: 'g3' }), 'b3')
  await sessions.bind('everything', caller({ grantId: undefined }), 'b4')
  t.equal(await sessions.resolve('everything', caller(), s1), 'b1')
  t.equal(opens, 0, 'a session this instance sealed is answered from memory')
  t.equal(await sessions.resolve('everything', caller({ grantId: 'g2' }), s1), undefined, 'another grant')
  t.equal(await sessions.resolve('other', caller(), s1), undefined, 'another backend')
  t.equal(await sessions.resolve('everything', caller(), 'x'.repeat(3000)), undefined, 'too long to be ours')
  t.equal(await other.resolve('everything', caller({ grantId: 'g2' }), s1), undefined, 'another instance: another grant does not open it either')
  outage = true
  await t.rejects(other.resolve('everything', caller(), s1), KeyServiceError, 'another instance must open it: an outage is not a refusal')
  t.equal(await sessions.resolve('everything', caller(), s1), 'b1', 'the instance that sealed it needs no key service')
  outage = false
  opens = 0
  t.equal(await other.resolve('everything', caller(), s1), 'b1', 'another instance opens it')
  t.equal(await other.resolve('everything', caller(), s1), 'b1')
  t.equal(opens, 1, 'once: then it is remembered')
  t.equal(other.size, 1, 'and swept by that instance too')
  storeDown = true
  t.equal(await sessions.sweep(), 0, 'a store outage ends nothing')
  storeDown = false
  grants.set('g2', { revokedAt: clock.now() })
  t.equal(await sessions.sweep(), 2, 'the revoked grant and the vanished one')
  t.same(ended.sort(), ['b2', 'b3'], 'an end that fails is not retried forever')
  t.equal(sessions.size, 2)
  sessions.forget(s1)
  t.equal(sessions.size, 1)
  void s2; void s3
})

t.test('a refused request\'s session: ended only when it opens for the caller\'s grant and the store says that grant is over, once', async t => {
  const clock = fakeClock()
  const sealed = new Map<string, { value: string, context: string }>()
  const cipher = {
    seal: async (value: string, context: string) => { const id = `s${sealed.size}`; sealed.set(id, { value, context }); return id },
    open: async (id: string, context: string) => {
      const entry = sealed.get(id)
      if (entry === undefined || entry.context !== context) throw new Error('does not open')
      return entry.value
    }
  }
  const grants = new Map<string, { revokedAt?: number, expiresAt?: number }>([['g1', {}], ['g2', {}]])
  const options = {
    cipher,
    clock,
    grants: { findGrant: async (id: string) => { const g = grants.get(id); return g === undefined ? undefined : { grantId: id, clientId: 'c1', identity: { sub: 'u1', groups: [] }, scope: [], resource: 'r', createdAt: 0, expiresAt: clock.now() + 100, ...g } } }
  }
  const opener = new GatewaySessions({ ...options, end: async () => {} })
  const s1 = await opener.bind('everything', caller(), 'b1')
  const s2 = await opener.bind('everything', caller({ grantId: 'g2' }), 'b2')
  const ended: string[] = []
  const other = new GatewaySessions({ ...options, end: async session => { ended.push(session.backendSessionId) } })
  t.equal(await other.endIfGrantInactive('everything', caller(), s1), false, 'a live grant: nothing ended')
  grants.set('g1', { revokedAt: clock.now() })
  t.equal(await other.endIfGrantInactive('everything', caller({ grantId: 'g2' }), s1), false, 'another grant\'s session does not open')
  t.equal(await other.endIfGrantInactive('other', caller(), s1), false, 'nor at another backend')
  t.equal(await other.endIfGrantInactive('everything', caller({ grantId: undefined }), s1), false, 'nor for a caller without a grant')
  t.same(ended, [])
  t.equal(await other.endIfGrantInactive('everything', caller(), s1), true, 'revoked: ended by an instance that never saw it')
  t.equal(await other.endIfGrantInactive('everything', caller(), s1), false, 'once')
  grants.set('g2', { expiresAt: clock.now() })
  t.equal(await other.endIfGrantInactive('everything', caller({ grantId: 'g2' }), s2), true, 'an expired grant too')
  t.same(ended, ['b1', 'b2'])
  t.equal(other.size, 0, 'ended sessions are not swept again')
})

const unavailable = await emulatorUnavailable({ moto: true })

t.test('a static credential by ARN: read once, sent in the configured header, never a JWT; unreadable is 503', { skip: unavailable === undefined ? false : `no AWS emulator (${unavailable})` }, async t => {
  const backend = await startFakeBackend(t)
  const aws = await startAwsEmulator({ moto: true })
  t.teardown(() => aws.stop())
  const arn = (await aws.secretsManager().send(new CreateSecretCommand({ Name: 'backend-key', SecretString: 's3cr3t-value' }))).ARN!
  const missing = arn.replace('backend-key', 'not-stored')
  const { app, config } = await buildTestApp(t, {
    env: {
      GATEHOUSE_BACKENDS: JSON.stringify({
        keyed: { url: `${backend.origin}/json`, auth: { type: 'secret', secretArn: arn, header: 'X-Api-Key' } },
        bearer: { url: `${backend.origin}/json`, auth: { type: 'secret', secretArn: arn } },
        broken: { url: `${backend.origin}/json`, auth: { type: 'secret', secretArn: missing } }
      })
    }
  })
  let reads = 0
  const started = startGateway({ config, ctx: app.gatehouse.ctx, log: { warn: () => {} }, secrets: { secretsManager: region => { reads++; return new SecretsManagerClient({ endpoint: aws.endpoint, region, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }) } } })
  t.teardown(started.close)
  const request = { caller: caller(), headers: { 'content-type': 'application/json' } }
  const body = { jsonrpc: '2.0', id: 1, method: 'ping' }
  const [keyed, bearer, broken] = config.backends
  for (let i = 0; i < 2; i++) t.equal((await started.gateway.post(keyed!, request, body)).status, 200)
  t.equal(backend.received.at(-1)?.headers['x-api-key'], 's3cr3t-value')
  t.equal(backend.received.at(-1)?.headers.authorization, undefined, 'no JWT besides')
  await started.gateway.post(bearer!, request, body)
  t.equal(backend.received.at(-1)?.headers.authorization, 'Bearer s3cr3t-value')
  t.equal(reads, 1, 'read once for both backends that use it')
  await t.rejects(started.gateway.post(broken!, request, body), { status: 503, message: /credential cannot be read/ })
})
