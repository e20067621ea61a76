// Gateway isolation against the real reference server: audience separation both ways (RFC 8707), backend
// sessions bound to the grant that opened them (bob with alice's session id is refused and nothing reaches the
// backend), two users with colliding JSON-RPC ids each get their own answer, and a revoked grant stops
// forwarding within the grant-cache lifetime and has its backend sessions ended.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { CLIENT_REDIRECT, authorize, registerClient, startHarness, postForm, type Harness, type RegisteredClient } from '../support/oauth-harness.ts'
import { startEverythingServer } from '../support/everything-server.ts'
import { startRecordingProxy } from '../support/recording-proxy.ts'

async function tokenFor (h: Harness, registered: RegisteredClient, username: string, resource: string): Promise<string> {
  const result = await authorize(h, registered.client, { username, extra: { resource } })
  const params = oauth.validateAuthResponse(h.as, registered.client, result.redirect, result.state)
  const response = await oauth.authorizationCodeGrantRequest(h.as, registered.client, registered.auth, params, CLIENT_REDIRECT, result.verifier, { ...h.options, additionalParameters: { resource } })
  return (await oauth.processAuthorizationCodeResponse(h.as, registered.client, response)).access_token
}

interface RpcAnswer { status: number, headers: Headers, messages: Array<Record<string, any>> }

/** One JSON-RPC POST; the answer's messages whether it came as JSON or as an event stream. */
async function rpc (url: string, token: string, body: unknown, session?: string): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...(session === undefined ? {} : { 'mcp-session-id': session }) },
    body: JSON.stringify(body)
  })
  const text = await response.text()
  const type = response.headers.get('content-type') ?? ''
  const messages = type.startsWith('text/event-stream')
    ? text.split('\n').filter(line => line.startsWith('data: ')).map(line => JSON.parse(line.slice(6)) as Record<string, any>)
    : text === '' ? [] : [JSON.parse(text) as Record<string, any>]
  return { status: response.status, headers: response.headers, messages }
}

async function openSession (url: string, token: string): Promise<string> {
  const init = await rpc(url, token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } } })
  const session = init.headers.get('mcp-session-id')
  if (init.status !== 200 || session === null) throw new Error(`initialize failed: ${init.status} ${JSON.stringify(init.messages)}`)
  await rpc(url, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)
  return session
}

t.test('gateway isolation: audiences, session binding, colliding ids, revocation', async t => {
  const everything = await startEverythingServer(t)
  const proxy = await startRecordingProxy(t, everything.url)
  const h = await startHarness(t, { env: { GRANT_CACHE_TTL: '1', GATEHOUSE_BACKENDS: JSON.stringify({ everything: { url: `${proxy.origin}/mcp` } }) } })
  const gateway = `${h.url}/mcp/everything`
  const registered = await registerClient(h)
  const alice = await tokenFor(h, registered, 'alice', gateway)
  const bob = await tokenFor(h, registered, 'bob', gateway)
  const aliceAtMcp = await tokenFor(h, registered, 'alice', `${h.url}/mcp`)

  await t.test('RFC 8707: a /mcp token is refused at the backend, and a backend token at /mcp (401 invalid_token)', async t => {
    const before = proxy.requests.length
    const wrong = await fetch(gateway, { method: 'POST', headers: { authorization: `Bearer ${aliceAtMcp}`, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })
    t.equal(wrong.status, 401)
    t.match(wrong.headers.get('www-authenticate'), new RegExp(`error="invalid_token".*resource_metadata="${h.url}/\\.well-known/oauth-protected-resource/mcp/everything"`))
    const back = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })
    t.equal(back.status, 401)
    const none = await fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })
    t.equal(none.status, 401)
    t.equal(none.headers.get('www-authenticate'), `Bearer scope="mcp:read mcp:write", resource_metadata="${h.url}/.well-known/oauth-protected-resource/mcp/everything"`)
    const unknown = await fetch(`${h.url}/mcp/nope`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: '{}' })
    t.equal(unknown.status, 404, 'an unknown backend name')
    t.equal(proxy.requests.length, before, 'nothing reached the backend')
  })

  const aliceSession = await openSession(gateway, alice)
  const bobSession = await openSession(gateway, bob)

  await t.test('a session is bound to its grant: bob with alice\'s session id is refused and nothing is forwarded', async t => {
    const before = proxy.requests.length
    const stolen = await rpc(gateway, bob, { jsonrpc: '2.0', id: 7, method: 'tools/list' }, aliceSession)
    t.equal(stolen.status, 404)
    t.match(stolen.messages[0], { jsonrpc: '2.0', id: 7, error: { code: -32001, message: 'Session not found' } })
    const forged = await rpc(gateway, bob, { jsonrpc: '2.0', id: 8, method: 'tools/list' }, 'not-a-session')
    t.equal(forged.status, 404)
    t.equal(proxy.requests.length, before, 'neither reached the backend')
    const own = await rpc(gateway, alice, { jsonrpc: '2.0', id: 9, method: 'tools/list' }, aliceSession)
    t.equal(own.status, 200)
    t.ok(own.messages[0]?.result?.tools?.length > 0, 'alice still uses her session')
  })

  await t.test('two users with colliding JSON-RPC ids each get their own answer', async t => {
    const rounds = await Promise.all(Array.from({ length: 10 }, async (_, i) => await Promise.all([
      rpc(gateway, alice, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: `alice-${i}` } } }, aliceSession),
      rpc(gateway, bob, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: `bob-${i}` } } }, bobSession)
    ])))
    rounds.forEach(([a, b], i) => {
      t.equal(a.messages.length, 1)
      t.equal(b.messages.length, 1)
      t.match(JSON.stringify(a.messages[0]?.result), `alice-${i}`)
      t.notMatch(JSON.stringify(a.messages), /bob-/)
      t.match(JSON.stringify(b.messages[0]?.result), `bob-${i}`)
      t.notMatch(JSON.stringify(b.messages), /alice-/)
    })
  })

  await t.test('revocation stops forwarding within the grant-cache lifetime and ends the grant\'s backend sessions', async t => {
    const revoked = await postForm(`${h.url}/revoke`, { token: alice, client_id: registered.client.client_id })
    t.equal(revoked.status, 200)
    const backendSession = proxy.requests.find(r => r.body.includes('alice-0'))?.headers['mcp-session-id']
    const deadline = Date.now() + 5000
    let status = 200
    while (Date.now() < deadline && status !== 401) {
      status = (await rpc(gateway, alice, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, aliceSession)).status
      if (status !== 401) await new Promise(resolve => setTimeout(resolve, 200))
    }
    t.equal(status, 401, 'alice\'s token is refused')
    while (Date.now() < deadline && !proxy.requests.some(r => r.method === 'DELETE' && r.headers['mcp-session-id'] === backendSession)) await new Promise(resolve => setTimeout(resolve, 100))
    t.ok(proxy.requests.some(r => r.method === 'DELETE' && r.headers['mcp-session-id'] === backendSession), 'the backend was told to end alice\'s session')
    t.notOk(proxy.requests.some(r => r.method === 'DELETE' && r.headers['mcp-session-id'] !== backendSession), 'bob\'s session lives on')
    const bobStill = await rpc(gateway, bob, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, bobSession)
    t.equal(bobStill.status, 200)
  })

  await t.test('the client ends its own session with DELETE', async t => {
    const response = await fetch(gateway, { method: 'DELETE', headers: { authorization: `Bearer ${bob}`, 'mcp-session-id': bobSession } })
    t.ok(response.status < 300, `DELETE answered ${response.status}`)
    const after = await rpc(gateway, bob, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, bobSession)
    // server-everything answers an unknown session with 400 (the spec says 404); the gateway relays the backend's answer.
    t.ok(after.status === 400 || after.status === 404, `the backend no longer knows it (${after.status})`)
    t.match(after.messages[0], { jsonrpc: '2.0', error: { code: -32000 } })
  })
})
