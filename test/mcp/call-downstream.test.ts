// call_downstream end to end: the development IdP (real child process) logs alice in; her upstream tokens
// are sealed on the grant; the tool calls a downstream API that accepts only upstream tokens (checked
// through the IdP's JWKS). MCP authorization spec, "Token Passthrough": the MCP token never goes downstream.
import t from 'tap'
import { startDevIdpProcess } from '../support/dev-idp.ts'
import { startDownstreamApi } from '../support/downstream-api.ts'
import { buildMcpApp, callTool, toolJson } from './helpers.ts'
import { UPSTREAM_REDIRECT_URI, upstreamLogin } from './upstream.ts'

const idp = await startDevIdpProcess({ redirectUris: [UPSTREAM_REDIRECT_URI] })
t.teardown(() => idp.stop())
const downstream = await startDownstreamApi({ issuer: idp.issuer })
t.teardown(() => downstream.close())

t.test('call_downstream calls the API with the user\'s upstream token, never the MCP token', async t => {
  const built = await buildMcpApp(t, { env: { DOWNSTREAM_URL: `${downstream.url}/api` } })
  const upstream = await upstreamLogin(idp, 'alice')
  const { token } = await built.mint({ sub: 'alice-sub', groups: ['engineering', 'admins'], upstream })
  const before = downstream.authorizations.length
  const res = (await callTool(built.app, token, 'call_downstream', { path: '/profile' })).json()
  t.notOk(res.result.isError, JSON.stringify(res))
  const answer = toolJson(res) as { status: number, body: Record<string, unknown> }
  t.equal(answer.status, 200)
  t.match(answer.body, { username: 'alice', groups: ['engineering', 'admins'], iss: idp.issuer, client_id: idp.clientId }, 'the API saw alice\'s Cognito-shaped upstream token')
  const sent = downstream.authorizations.slice(before)
  t.same(sent, [`Bearer ${upstream.accessToken}`])
  t.notOk(downstream.authorizations.some(h => h.includes(token)), 'no token passthrough')
})

t.test('call_downstream reports the downstream refusal and an expired upstream session as tool errors', async t => {
  const built = await buildMcpApp(t, { env: { DOWNSTREAM_URL: `${downstream.url}/api` } })
  const forged = await built.mint({ upstream: { accessToken: 'not-an-upstream-token' } })
  const refused = (await callTool(built.app, forged.token, 'call_downstream', { path: '/profile' })).json()
  t.equal(refused.result.isError, true)
  t.equal((toolJson(refused) as { status: number }).status, 401)
  const expired = await built.mint({ upstream: { accessToken: 'x', expiresAt: Math.floor(Date.now() / 1000) - 10 } })
  const stale = (await callTool(built.app, expired.token, 'call_downstream', {})).json()
  t.equal(stale.result.isError, true)
  t.match(stale.result.content[0].text, /expired/)
  const none = await built.mint()
  const empty = (await callTool(built.app, none.token, 'call_downstream', {})).json()
  t.match(empty.result.content[0].text, /no upstream session/)
  const escape = (await callTool(built.app, none.token, 'call_downstream', { path: '//evil.example/x' })).json()
  t.equal(escape.result.isError, true, 'the path cannot leave the configured API')
  t.match(escape.result.content[0].text, /invalid arguments/)
})

t.test('the upstream token never leaves the configured origin, even when DOWNSTREAM_URL has no base path', async t => {
  const built = await buildMcpApp(t, { env: { DOWNSTREAM_URL: downstream.url } })
  const upstream = await upstreamLogin(idp, 'alice')
  const { token } = await built.mint({ sub: 'alice-sub', groups: [], upstream })
  const before = downstream.authorizations.length
  for (const path of ['//1249767681/x', '//0x4a7d2b01/', '//intranet/x', '/\\evil.example/x']) {
    const res = (await callTool(built.app, token, 'call_downstream', { path })).json()
    t.equal(res.result.isError, true, `${path} refused`)
    t.match(res.result.content[0].text, /invalid arguments|must stay under/, `${path} refused before any request (not merely unreachable)`)
  }
  t.equal(downstream.authorizations.length, before, 'no request was sent anywhere')
  const ok = (await callTool(built.app, token, 'call_downstream', { path: '/api/profile' })).json()
  t.notOk(ok.result.isError, 'a normal path still works')
})
