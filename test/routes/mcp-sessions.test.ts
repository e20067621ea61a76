// POST/GET/DELETE /mcp, legacy era (2025-03-26 … 2025-11-25), raw requests through app.inject: the session id
// issued at initialize (transports, "Session Management") and checked on every request that carries one, never
// in the 2026-07-28 era; and resumable event streams (transports, "Resumability and Redelivery", SEP-1699): the
// priming event and retry field, event ids, GET + Last-Event-ID replaying exactly the missed events, and never
// another user's or another session's stream; a refused stream never reads as a lost session (400, not 404).
// The conformance fixtures (test-only) provide the streaming tools. The streams' own rules (expiry, holes,
// concurrency, overflow) are in test/mcp/resumable.test.ts.
import t from 'tap'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { LightMyRequestResponse } from 'fastify'
import { buildMcpApp, post, rpc } from '../mcp/helpers.ts'
import { conformanceFixtures } from '../support/conformance-fixtures.ts'
import { STREAM_EVENT_TTL_SECONDS, STREAM_RETRY_MS } from '../../src/mcp/resumable.ts'
import { sessionTag } from '../../src/mcp/session.ts'
import { startMcp } from '../../src/mcp/start.ts'
import type { Caller } from '../../src/mcp/caller.ts'
import { createFakeClock } from '../support/store.ts'

interface SseEvent { id?: string, event?: string, data?: string, retry?: string }

/** The events of an event-stream body, fields as written (a block without data is kept too: it may set retry). */
function events (body: string): SseEvent[] {
  return body.split('\n\n').filter(block => block.trim() !== '').map(block => {
    const event: SseEvent = {}
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':')
      const field = line.slice(0, colon) as keyof SseEvent
      event[field] = line.slice(colon + 1).replace(/^ /, '')
    }
    return event
  })
}

const V = '2025-11-25'
const INIT = { protocolVersion: V, capabilities: { sampling: {}, elicitation: {} }, clientInfo: { name: 'raw', version: '1' } }

t.test('legacy-era sessions and resumable streams on /mcp', async t => {
  const built = await buildMcpApp(t, { mcpExtension: conformanceFixtures() })
  const alice = (await built.mint({ sub: 'alice', groups: ['admins'], scope: ['mcp:read', 'mcp:write'] })).token
  const aliceOtherGrant = (await built.mint({ sub: 'alice', groups: ['admins'], scope: ['mcp:read', 'mcp:write'] })).token
  const aliceOtherClient = (await built.mint({ sub: 'alice', groups: ['admins'], scope: ['mcp:read', 'mcp:write'], clientId: 'another-client' })).token
  const bob = (await built.mint({ sub: 'bob', groups: [], scope: ['mcp:read', 'mcp:write'] })).token
  const initialize = async (token: string): Promise<string> => {
    const res = await post(built.app, token, rpc('initialize', INIT), { 'mcp-protocol-version': V })
    t.equal(res.statusCode, 200)
    return res.headers['mcp-session-id'] as string
  }
  const legacy = async (token: string, body: unknown, session?: string, version = V): Promise<LightMyRequestResponse> =>
    await post(built.app, token, body, { 'mcp-protocol-version': version, ...(session === undefined ? {} : { 'mcp-session-id': session }) })
  const resume = async (token: string, lastEventId: string, session?: string): Promise<LightMyRequestResponse> =>
    await built.app.inject({ method: 'GET', url: '/mcp', headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-protocol-version': V, 'last-event-id': lastEventId, ...(session === undefined ? {} : { 'mcp-session-id': session }) } })

  t.test('initialize issues Mcp-Session-Id (visible ASCII); later requests work with it and without it', async t => {
    const session = await initialize(alice)
    t.match(session, /^[\x21-\x7e]+$/, 'transports: only visible ASCII')
    t.ok(session.length < 1024)
    const withSession = await legacy(alice, rpc('tools/list'), session)
    t.equal(withSession.statusCode, 200)
    t.notOk(withSession.headers['mcp-session-id'], 'issued once, at initialize')
    t.equal((await legacy(alice, rpc('tools/list'))).statusCode, 200, 'a stateless client (no session id) keeps working')
    t.not(await initialize(alice), session, 'every initialize starts a new session')
  })

  t.test('the 2026-07-28 era never issues or requires a session id', async t => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' }
    const discover = await post(built.app, alice, rpc('server/discover', { _meta: meta }), headers)
    t.equal(discover.statusCode, 200)
    t.notOk(discover.headers['mcp-session-id'])
    const junk = await post(built.app, alice, rpc('server/discover', { _meta: meta }), { ...headers, 'mcp-session-id': 'not-a-session' })
    t.equal(junk.statusCode, 200, 'a session header in a 2026 request is not looked at')
    t.notOk(junk.headers['mcp-session-id'])
  })

  t.test('a session id of another user or client, edited without its tag recomputed, or made up → 404 -32001 with the request id', async t => {
    const session = await initialize(alice)
    const [format, payload, tag] = session.split('.') as [string, string, string]
    const edited = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
    const forged = `${format}.${Buffer.from(JSON.stringify({ ...edited, version: '2025-03-26' })).toString('base64url')}.${tag}`
    const flipped = `${format}.${payload}.${tag.slice(0, -2)}${tag.endsWith('AA') ? 'AB' : 'AA'}`
    const cases: Array<[string, string, string]> = [
      ['the same user through another client', aliceOtherClient, session],
      ['another user', bob, session],
      ['a field edited', alice, forged],
      ['the tag changed', alice, flipped],
      ['made up', alice, 'gh1.e30.AAAA'],
      ['too long', alice, `${session}${'A'.repeat(2048)}`]
    ]
    for (const [what, token, presented] of cases) {
      const res = await legacy(token, rpc('tools/list', undefined, `s-${what}`), presented)
      t.equal(res.statusCode, 404, what)
      t.same(res.json(), { jsonrpc: '2.0', id: `s-${what}`, error: { code: -32001, message: 'Session not found' } }, what)
    }
    t.equal((await legacy(alice, rpc('tools/list'), session)).statusCode, 200, 'the session still works for its own caller')
    t.equal((await legacy(aliceOtherGrant, rpc('tools/list'), session)).statusCode, 200, 'and for the same user and client through a new grant (a step-up re-authorizes mid-session)')
  })

  t.test('a client declaring the most capabilities gets a session id it can use (nothing of them is in the id)', async t => {
    const capabilities = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'c'.repeat(62)}`, {}]))
    const init = await post(built.app, alice, rpc('initialize', { ...INIT, capabilities }), { 'mcp-protocol-version': V })
    const session = init.headers['mcp-session-id'] as string
    t.ok(session.length < 200, `${session.length} characters`)
    t.equal((await legacy(alice, rpc('tools/list'), session)).statusCode, 200)
  })

  t.test('a self-made session id with a version the server does not speak is 400, not served under it', async t => {
    const { claims, token } = await built.mint({ sub: 'mallory', groups: [], scope: ['mcp:read'] })
    const payload = Buffer.from(JSON.stringify({ version: '2099-01-01', expiresAt: 9_999_999_999, nonce: 'n' })).toString('base64url')
    const minted = `gh1.${payload}.${sessionTag({ ...claims, issuer: claims.iss, clientId: claims.client_id, groups: [], scopes: [], expiresAt: claims.exp }, payload)}`
    const res = await post(built.app, token, rpc('tools/list', undefined, 'v'), { 'mcp-session-id': minted, 'mcp-protocol-version': V })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { id: 'v', error: { code: -32000, message: /unsupported MCP-Protocol-Version "2099-01-01"/ } })
  })

  t.test('DELETE, HEAD and a GET without Last-Event-ID are 405 with Allow: GET, POST (GET serves resumes)', async t => {
    const session = await initialize(alice)
    for (const [method, headers] of [
      ['DELETE', { 'mcp-session-id': session }],
      ['GET', { 'mcp-session-id': session, 'mcp-protocol-version': V }],
      ['HEAD', { 'mcp-session-id': session, 'mcp-protocol-version': V, 'last-event-id': '00000000-0000-4000-8000-000000000000_0' }]
    ] as const) {
      const res = await built.app.inject({ method, url: '/mcp', headers: { authorization: `Bearer ${alice}`, ...headers } })
      t.equal(res.statusCode, 405, method)
      t.equal(res.headers.allow, 'GET, POST', method)
    }
  })

  t.test('GET resume: an unsupported MCP-Protocol-Version is 400; a 2026-07-28 GET is 405 and its session id is never checked', async t => {
    const session = await initialize(alice)
    const unsupported = await built.app.inject({ method: 'GET', url: '/mcp', headers: { authorization: `Bearer ${alice}`, 'mcp-protocol-version': '1999-01-01', 'mcp-session-id': session, 'last-event-id': '00000000-0000-4000-8000-000000000000_0' } })
    t.equal(unsupported.statusCode, 400)
    t.match(unsupported.json(), { error: { code: -32000, message: /unsupported MCP-Protocol-Version/ } })
    const modern = await built.app.inject({ method: 'GET', url: '/mcp', headers: { authorization: `Bearer ${alice}`, 'mcp-protocol-version': '2026-07-28', 'mcp-session-id': 'not-a-session', 'last-event-id': '00000000-0000-4000-8000-000000000000_0' } })
    t.equal(modern.statusCode, 405, 'no GET in 2026-07-28, and no 404 for a session header it does not have')
  })

  t.test('an event stream starts with the priming event (id, retry, empty data); every event has an id', async t => {
    const session = await initialize(alice)
    const res = await legacy(alice, rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p' } }, 'call-1'), session)
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/event-stream/)
    const sent = events(res.body)
    t.same(sent[0], { id: sent[0]?.id, retry: String(STREAM_RETRY_MS), data: '' }, 'priming event first: an id, retry, empty data')
    t.equal(sent.length, 5, 'priming, three progress notifications, the result')
    t.ok(sent.every(e => typeof e.id === 'string' && e.id !== ''), 'every event has an id')
    t.equal(new Set(sent.map(e => e.id)).size, 5, 'ids are unique')
    t.match(JSON.parse(sent[4]?.data ?? '{}'), { id: 'call-1', result: { content: [{ text: 'p' }] } })
    const stored = await built.store.store.listStreamEvents((sent[0]?.id ?? '').replace(/_0$/, ''), 0, 100)
    t.same(stored.map(e => `${e.streamId}_${e.seq}`), sent.map(e => e.id), 'every event is stored under its id')
    const now = Math.floor(Date.now() / 1000)
    t.ok(stored.every(e => e.expiresAt >= now + STREAM_EVENT_TTL_SECONDS - 5 && e.expiresAt <= now + STREAM_EVENT_TTL_SECONDS), `each expires ${STREAM_EVENT_TTL_SECONDS} s after it was written (DynamoDB TTL)`)
    t.same(stored.map(e => e.final), [false, false, false, false, true], 'the answer is marked final')

    // GET + Last-Event-ID: exactly what came after that event, under the same ids.
    const replay = await resume(alice, sent[1]?.id as string, session)
    t.equal(replay.statusCode, 200)
    t.match(replay.headers['content-type'], /^text\/event-stream/)
    const replayed = events(replay.body).filter(e => e.data !== undefined)
    t.same(replayed, sent.slice(2).map(e => ({ id: e.id, event: 'message', data: e.data })), 'the missed events, exactly')
    const fromLast = await resume(alice, sent[4]?.id as string, session)
    t.same(events(fromLast.body).filter(e => e.data !== undefined), [], 'after the last event: nothing more, and the stream ends')

    // Anyone else's resume reads as an unknown stream: one 400 (a 404 would tell the client its session is
    // gone: transports, "Session Management"), nothing of the stream in the answer.
    const refusals: Array<[string, LightMyRequestResponse]> = [
      ['another user, in a session of his own', await resume(bob, sent[1]?.id as string, await initialize(bob))],
      ['another user, without a session', await resume(bob, sent[1]?.id as string)],
      ['the same user through another client', await resume(aliceOtherClient, sent[1]?.id as string)],
      ['the same user in another session', await resume(alice, sent[1]?.id as string, await initialize(alice))],
      ['the same user without the session', await resume(alice, sent[1]?.id as string)],
      ['an unknown stream', await resume(alice, '00000000-0000-4000-8000-000000000000_1', session)],
      ['a malformed event id', await resume(alice, 'garbage', session)]
    ]
    for (const [what, answer] of refusals) {
      t.equal(answer.statusCode, 400, what)
      t.same(answer.json(), { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: no stream to resume from this Last-Event-ID' } }, what)
      t.notMatch(answer.body, /progress|call-1/, `${what}: nothing of the stream`)
    }
    t.equal((await legacy(alice, rpc('tools/list'), session)).statusCode, 200, 'the session a refused Last-Event-ID came with still works')
    const afterStepUp = await resume(aliceOtherGrant, sent[1]?.id as string, session)
    t.equal(events(afterStepUp.body).filter(e => e.data !== undefined).length, 3, 'the same user and client through a new grant, in the same session, resumes')
  })

  t.test('a stream the handler closes mid-call: the result is delivered on the resuming GET only', async t => {
    const session = await initialize(alice)
    const res = await legacy(alice, rpc('tools/call', { name: 'test_reconnection', arguments: {} }, 1), session, '2025-03-26')
    const sent = events(res.body)
    t.equal(sent.length, 1, 'only the priming event: the negotiated version (the session\'s) decides, not the header')
    t.equal(sent[0]?.data, '')
    const replay = await resume(alice, sent[0]?.id as string, session)
    const replayed = events(replay.body).filter(e => e.data !== undefined)
    t.equal(replayed.length, 1)
    t.match(JSON.parse(replayed[0]?.data ?? '{}'), { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text' }] } })
    t.match(replayed[0]?.id, new RegExp(`^${(sent[0]?.id ?? '').replace(/_0$/, '')}_1$`), 'the next id of the same stream')
  })

  t.test('a client older than 2025-11-25 gets no priming event (it could not take empty data), and no ids', async t => {
    const res = await legacy(alice, rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'q' } }), undefined, '2025-06-18')
    const sent = events(res.body)
    t.equal(sent.length, 4, 'three progress notifications and the result')
    t.ok(sent.every(e => e.id === undefined && e.data !== ''))
  })
})

t.test('a resume may reach another instance: it replays from the shared store and waits there for the rest', async t => {
  const first = await buildMcpApp(t, { mcpExtension: conformanceFixtures() })
  // A second app on the same table and keys: another Lambda instance or process.
  const second = await buildMcpApp(t, { mcpExtension: conformanceFixtures(), store: first.store, services: { keys: first.keys, cipher: first.cipher } })
  const { token } = await first.mint({ sub: 'carol', groups: [], scope: ['mcp:read', 'mcp:write'] })
  const init = await post(first.app, token, rpc('initialize', INIT), { 'mcp-protocol-version': V })
  const session = init.headers['mcp-session-id'] as string
  const started = Date.now()
  const res = await post(first.app, token, rpc('tools/call', { name: 'test_reconnection', arguments: {} }, 'far'), { 'mcp-protocol-version': V, 'mcp-session-id': session })
  const priming = events(res.body)[0]?.id as string
  // The handler is still running on the first instance: the second has only the priming event so far.
  const replay = await second.app.inject({ method: 'GET', url: '/mcp', headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-protocol-version': V, 'mcp-session-id': session, 'last-event-id': priming } })
  t.equal(replay.statusCode, 200, 'the session and the stream are honoured by an instance that issued neither')
  const replayed = events(replay.body).filter(e => e.data !== undefined)
  t.equal(replayed.length, 1)
  t.match(JSON.parse(replayed[0]?.data ?? '{}'), { id: 'far', result: { content: [{ type: 'text' }] } })
  t.ok(Date.now() - started < 5000, 'delivered by polling the store, well within the wait bound')
})

/** A raw request on the loopback port, answered as soon as the headers are in (the body is read by the caller). */
async function open (url: string, method: string, headers: Record<string, string>, body?: string): Promise<IncomingMessage> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/mcp`, { method, headers }, resolve)
    req.once('error', reject)
    req.end(body)
  })
}

/** Reads event-stream events from a response until `done` says so. */
async function readUntil (res: IncomingMessage, done: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  let body = ''
  for await (const chunk of res) {
    body += String(chunk)
    const complete = events(body.slice(0, body.lastIndexOf('\n\n') + 2))
    if (done(complete)) return complete
  }
  return events(body)
}

t.test('a resuming GET whose client goes away ends at once: the stream can be resumed again right away, not 409 until the wait bound', async t => {
  const built = await buildMcpApp(t, { listen: true, mcpExtension: conformanceFixtures() })
  const { token } = await built.mint({ sub: 'dave', groups: [], scope: ['mcp:read', 'mcp:write'] })
  const init = await post(built.app, token, rpc('initialize', INIT), { 'mcp-protocol-version': V })
  const headers = { authorization: `Bearer ${token}`, 'mcp-protocol-version': V, 'mcp-session-id': init.headers['mcp-session-id'] as string }
  // test_elicitation waits for the client's answer: its stream stays open until then.
  const call = await open(built.url, 'POST', { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, JSON.stringify(rpc('tools/call', { name: 'test_elicitation', arguments: { message: 'm' } }, 'e')))
  const sent = await readUntil(call, list => list.some(e => e.data?.includes('elicitation/create') === true))
  call.destroy()
  const asked = sent.find(e => e.data?.includes('elicitation/create') === true) as SseEvent
  const resume = async (): Promise<IncomingMessage> => await open(built.url, 'GET', { ...headers, accept: 'text/event-stream', 'last-event-id': asked.id as string })
  const first = await resume()
  t.equal(first.statusCode, 200)
  first.destroy()
  const left = Date.now()
  let again = await resume()
  while (again.statusCode === 409 && Date.now() - left < 3000) {
    again.resume()
    await new Promise(resolve => setTimeout(resolve, 50))
    again = await resume()
  }
  t.equal(again.statusCode, 200, `resumed again ${Date.now() - left} ms after the first client left (the wait bound is 10 s)`)
  // The client answers the elicitation (declines); the resumed stream delivers the tool's result.
  const answer = await post(built.app, token, { jsonrpc: '2.0', id: JSON.parse(asked.data as string).id, result: { action: 'decline' } }, headers)
  t.equal(answer.statusCode, 202)
  const rest = await readUntil(again, list => list.some(e => e.data?.includes('"id":"e"') === true))
  t.ok(rest.some(e => e.data?.includes('"id":"e"') === true), 'the result arrives on the resumed stream')
})

t.test('on Lambda a handler cannot end its stream early: the invocation would return and freeze the rest, so the answer comes on the POST', async t => {
  const built = await buildMcpApp(t, { mcpExtension: conformanceFixtures() })
  const store = built.store.store
  const mcp = await startMcp({
    config: { ...built.config, inLambda: true },
    dataset: store,
    streamEvents: store,
    grants: store,
    cipher: built.cipher,
    clock: { now: () => Math.floor(Date.now() / 1000) },
    audit: { event: () => {} },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    extension: conformanceFixtures()
  })
  t.teardown(mcp.close)
  const caller: Caller = { sub: 'erin', groups: [], scopes: ['mcp:read', 'mcp:write'], clientId: 'c', issuer: built.config.publicUrl, expiresAt: Math.floor(Date.now() / 1000) + 600 }
  const answer = await mcp.endpoint.handle({ caller, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': V }, body: rpc('tools/call', { name: 'test_reconnection', arguments: {} }, 'lambda') })
  let body = ''
  for await (const chunk of answer.body as AsyncIterable<unknown>) body += String(chunk)
  const sent = events(body)
  t.equal(sent[0]?.data, '', 'still resumable (priming event): a broken connection can be resumed elsewhere')
  t.match(JSON.parse(sent.at(-1)?.data ?? '{}'), { id: 'lambda', result: { content: [{ type: 'text' }] } }, 'the result on the POST\'s own stream')
})

t.test('a stream whose priming event has expired still resumes: the client\'s own last event is what counts', async t => {
  const clock = createFakeClock()
  const T0 = clock.now()
  const built = await buildMcpApp(t, { mcpExtension: conformanceFixtures(), clock })
  const { token } = await built.mint({ sub: 'frank', groups: [], scope: ['mcp:read', 'mcp:write'] })
  const init = await post(built.app, token, rpc('initialize', INIT), { 'mcp-protocol-version': V })
  const headers = { 'mcp-protocol-version': V, 'mcp-session-id': init.headers['mcp-session-id'] as string }
  // test_reconnection closes its stream after the priming event and answers 100 ms later: stored 200 s on.
  const res = await post(built.app, token, rpc('tools/call', { name: 'test_reconnection', arguments: {} }, 'old'), headers)
  clock.set(T0 + 200)
  const priming = events(res.body)[0]?.id as string
  const streamId = priming.replace(/_0$/, '')
  for (let i = 0; i < 100 && (await built.store.store.listStreamEvents(streamId, 1, 1)).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 20))
  clock.set(T0 + STREAM_EVENT_TTL_SECONDS + 100)
  t.same((await built.store.store.listStreamEvents(streamId, 0, 10)).map(e => e.seq), [1], 'the priming event has expired, the answer lives')
  const replay = await built.app.inject({ method: 'GET', url: '/mcp', headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers, 'last-event-id': priming } })
  t.equal(replay.statusCode, 200)
  t.match(JSON.parse(events(replay.body).find(e => e.data !== undefined)?.data ?? '{}'), { id: 'old', result: { content: [{ type: 'text' }] } })
})
