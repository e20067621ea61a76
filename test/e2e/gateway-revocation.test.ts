// A revoked grant's backend sessions end on every instance, not only the warm one that opened them (issue 14:
// "a revoked grant's sessions end"). Two gatehouse instances share one store, one signing key and one cipher
// key, as Lambda instances do; the real reference server sits behind a recording proxy. Instance A opens the
// session; after revocation, instance B, which never saw that session, gets the next request: it tells the
// backend to end the session (DELETE with the backend's session id) and then refuses (401 invalid_token).
import t from 'tap'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildTestApp, freePort } from '../support/app.ts'
import { startTestStore } from '../support/store.ts'
import { startEverythingServer } from '../support/everything-server.ts'
import { startRecordingProxy } from '../support/recording-proxy.ts'
import { LocalKeySet } from '../../src/crypto/local-keys.ts'
import { LocalCipher } from '../../src/crypto/local-cipher.ts'
import { issueAccessToken } from '../../src/oauth/access-tokens.ts'
import { SYSTEM_CLOCK } from '../../src/ports/clock.ts'

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }

t.test('a revoked grant\'s backend session is ended by whichever instance sees its next request, then refused', async t => {
  const everything = await startEverythingServer(t)
  const proxy = await startRecordingProxy(t, everything.url)
  const store = await startTestStore(t)
  const keysDir = await mkdtemp(join(tmpdir(), 'gatehouse-keys-'))
  t.teardown(() => rm(keysDir, { recursive: true, force: true }))
  const keys = await LocalKeySet.open({ dataDir: keysDir, clock: SYSTEM_CLOCK })
  const cipher = new LocalCipher(randomBytes(32))
  const [portA, portB] = [await freePort(), await freePort()]
  // One public URL for both, as behind one API: a token's audience is the same resource on either instance.
  const env = { GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${portA}`, GRANT_CACHE_TTL: '1', GATEHOUSE_BACKENDS: JSON.stringify({ everything: { url: `${proxy.origin}/mcp` } }) }
  const a = await buildTestApp(t, { listen: true, port: portA, store, env, services: { keys, cipher } })
  const b = await buildTestApp(t, { listen: true, port: portB, store, env, services: { keys, cipher } })
  const resource = `${a.config.publicUrl}/mcp/everything`

  const now = SYSTEM_CLOCK.now()
  const identity = { sub: 'alice', email: 'alice@example.com', groups: [] }
  const grantId = randomUUID()
  const otherGrant = randomUUID()
  for (const id of [grantId, otherGrant]) await store.store.saveGrant({ grantId: id, clientId: 'client-1', identity, scope: ['mcp:read', 'mcp:write'], resource, createdAt: now, expiresAt: now + 3600 })
  const issue = async (gid: string): Promise<string> => (await issueAccessToken({ grantId: gid, clientId: 'client-1', identity }, ['mcp:read', 'mcp:write'], { keys, clock: SYSTEM_CLOCK, issuer: a.config.publicUrl, audience: resource, ttlSeconds: 600 })).token
  const token = await issue(grantId)
  const otherToken = await issue(otherGrant)

  const post = async (port: number, bearer: string, body: unknown, session?: string): Promise<Response> => await fetch(`http://127.0.0.1:${port}/mcp/everything`, {
    method: 'POST',
    headers: { ...HEADERS, authorization: `Bearer ${bearer}`, ...(session === undefined ? {} : { 'mcp-session-id': session }) },
    body: JSON.stringify(body)
  })
  const init = await post(portA, token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })
  const session = init.headers.get('mcp-session-id')
  await init.text()
  t.equal(init.status, 200)
  if (session === null) throw new Error('no session id')
  t.equal((await post(portA, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status, 202)
  // Instance A forwards; B has never seen this session (so B's own sweep knows nothing of it).
  const onA = await post(portA, token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, session)
  await onA.text()
  t.equal(onA.status, 200)
  const backendSessionId = proxy.requests.find(r => r.method === 'POST' && r.headers['mcp-session-id'] !== undefined)?.headers['mcp-session-id']
  t.type(backendSessionId, 'string')
  t.not(backendSessionId, session, 'the client never sees the backend\'s own session id')

  await t.test('another grant\'s live token with this session is refused, forwards nothing and ends nothing', async t => {
    const before = proxy.requests.length
    const stolen = await post(portB, otherToken, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, session)
    t.equal(stolen.status, 404, 'a live grant with a session sealed for another: refused, not forwarded')
    await stolen.text()
    t.equal(proxy.requests.length, before, 'nothing reached the backend')
  })

  await t.test('after revocation, instance B ends the session on the backend before it refuses', async t => {
    await store.store.revokeGrant(grantId, SYSTEM_CLOCK.now())
    // Instance A (which opened the session and whose sweep would end it) is gone, as a Lambda instance goes.
    await a.app.close()
    t.equal(proxy.requests.filter(r => r.method === 'DELETE').length, 0, 'nothing has ended the session yet')
    const refused = await post(portB, token, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, session)
    await refused.text()
    t.equal(refused.status, 401, 'the revoked grant\'s token is refused')
    t.match(refused.headers.get('www-authenticate'), /error="invalid_token"/)
    const deletes = proxy.requests.filter(r => r.method === 'DELETE')
    t.equal(deletes.length, 1, 'one DELETE reached the backend before the refusal was answered')
    t.equal(deletes[0]?.headers['mcp-session-id'], backendSessionId, 'for the revoked grant\'s backend session')
    t.match(deletes[0]?.headers.authorization, /^Bearer ey/, 'with gatehouse\'s backend credential')
    t.not(deletes[0]?.headers.authorization, `Bearer ${token}`, 'never the client\'s token')
    const again = await post(portB, token, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, session)
    await again.text()
    t.equal(again.status, 401)
    t.equal(proxy.requests.filter(r => r.method === 'DELETE').length, 1, 'ended once: a repeat does not reach the backend again')
    // The backend no longer knows the session: a live grant with it would now be told so by the backend itself.
    const direct = await fetch(everything.url, { method: 'POST', headers: { ...HEADERS, 'mcp-session-id': backendSessionId as string }, body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list' }) })
    await direct.text()
    t.ok(direct.status === 400 || direct.status === 404, `the backend ended it (${direct.status})`)
  })
})
