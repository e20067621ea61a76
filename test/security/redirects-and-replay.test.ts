// Open redirects (RFC 9700 §4.1, §4.11; DESIGN decisions 2 and 5) and replayed or forged authorization
// responses (RFC 9700 §4.5, §4.7). Private-address Client ID Metadata Document URLs, seen end to end from
// /authorize, are covered by test/routes/cimd.test.ts.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { buildTestApp } from '../support/app.ts'
import { formSubmission, loginThroughForm } from '../support/browserless-login.ts'
import { registerClient, startHarness, CLIENT_REDIRECT } from '../support/oauth-harness.ts'
import { registerTestClient } from './mint.ts'

const GOOD = 'https://good.example/cb'
const LOOPBACK = 'http://127.0.0.1:53682/cb'
// Rate limits key on the connection address: each injected request comes from its own.
let addresses = 0
const nextAddress = (): string => { addresses++; return `10.2.${addresses >> 8}.${addresses & 255}` }
const challenge = (): string => createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url')

const ATTEMPTS = [
  'https://evil.example/cb',
  'https://good.example@evil.example/cb',
  'https://good.example/cb@evil.example',
  'https://good.example\\@evil.example/cb',
  'https://good.example\\.evil.example/cb',
  'https://good.example%2F@evil.example/cb',
  'https://good.example%40evil.example/cb',
  'https://good.example.evil.example/cb',
  'https://evil.example/https://good.example/cb',
  'https://good.example/cb/../../evil',
  'https://good.example/cb%2F..%2F..%2Fevil',
  'https://good.example/cb/',
  'https://good.example/cb#@evil.example',
  'https://good.example/cb#',
  'https://good.example/cb?next=https://evil.example',
  'HTTPS://GOOD.EXAMPLE/cb',
  'https://good.example:8443/cb',
  'https://good.example:443/cb',
  'http://good.example/cb',
  '//evil.example/cb',
  'https:evil.example/cb',
  'https:/\\evil.example/cb',
  ' https://good.example/cb',
  'https://good.example/cb\u0000',
  'https://good.example/cb%00',
  'https://good.example/c%62',
  'javascript:alert(1)//https://good.example/cb',
  'data:text/html,<script>alert(1)</script>',
  'http://127.0.0.1:53682/other',
  'http://127.0.0.1:53682/cb/extra',
  'http://127.0.0.1:53682/cb?x=1',
  'http://127.0.0.1:53682/cb#frag',
  'http://localhost:53682/cb',
  'http://[::1]:53682/cb',
  'http://127.0.0.2:53682/cb',
  'http://127.0.0.1.evil.example:53682/cb',
  'http://127.0.0.1@evil.example:53682/cb',
  'http://evil.example@127.0.0.1:53682/cb',
  'https://127.0.0.1:53682/cb',
  'http://0x7f.0.0.1:53682/cb',
  'http://2130706433:53682/cb'
]

t.test('/authorize never redirects to a redirect_uri that is not registered, whatever the disguise (RFC 9700 §4.1.3)', async t => {
  const { app } = await buildTestApp(t)
  const client = await registerTestClient(app, { redirect_uris: [GOOD, LOOPBACK] })
  for (const attempt of ATTEMPTS) {
    for (const extra of [{}, { response_type: 'token' }, { code_challenge_method: 'plain' }]) {
      const query = new URLSearchParams({ client_id: client.clientId, redirect_uri: attempt, response_type: 'code', code_challenge: challenge(), code_challenge_method: 'S256', state: 's', ...extra })
      const res = await app.inject({ method: 'GET', url: `/authorize?${query.toString()}`, remoteAddress: nextAddress() })
      const label = `${JSON.stringify(attempt)} ${JSON.stringify(extra)}`
      const location = res.headers.location
      if (location === undefined) {
        const sameLoopback = URL.canParse(attempt) && new URL(attempt).href.startsWith('http://127.0.0.1:53682/cb') && attempt.includes('53682/cb') && !/[?#@]|\/cb\//.test(attempt)
        t.ok((res.statusCode >= 400 && res.statusCode < 500) || (sameLoopback && res.statusCode === 200), `${label}: ${res.statusCode} error page, no redirect`)
      } else {
        // Non-canonical spellings of 127.0.0.1 (0x7f.0.0.1, 2130706433) parse to the registered loopback URI;
        // the redirect is then built from the parsed URL, so it can only land on the registered place.
        t.ok(/^http:\/\/127\.0\.0\.1:53682\/cb\?/.test(String(location)), `${label}: a redirect only to the registered loopback URI (${String(location).slice(0, 60)})`)
      }
    }
  }
  // Controls: the registered URIs, and the loopback URI on another port (RFC 8252 §7.3), are accepted.
  for (const ok of [GOOD, LOOPBACK, 'http://127.0.0.1:9/cb']) {
    const query = new URLSearchParams({ client_id: client.clientId, redirect_uri: ok, response_type: 'token', code_challenge: challenge(), code_challenge_method: 'S256', state: 's' })
    const res = await app.inject({ method: 'GET', url: `/authorize?${query.toString()}`, remoteAddress: nextAddress() })
    t.equal(res.statusCode, 303, `${ok}: parameter errors go back to a registered URI`)
    t.ok(String(res.headers.location).startsWith(`${ok}?`), `${ok}: exactly there`)
  }
})

t.test('registration refuses redirect URIs that could redirect anywhere', async t => {
  const { app } = await buildTestApp(t)
  for (const uri of ['http://evil.example/cb', 'https://*.example/cb', 'https://good.example/cb#x', 'javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'https://user:pw@good.example/cb', 'evil://cb', 'https://good.example/cb\n']) {
    const res = await app.inject({ method: 'POST', url: '/register', headers: { 'content-type': 'application/json' }, remoteAddress: nextAddress(), payload: { redirect_uris: [uri], token_endpoint_auth_method: 'none' } })
    t.equal(res.statusCode, 400, `${JSON.stringify(uri)} refused`)
  }
})

t.test('the same callback URL twice: the second is an error page and mints no second code; a forged state is refused', async t => {
  const h = await startHarness(t)
  const c = await registerClient(h)
  const q = new URLSearchParams({ client_id: c.client.client_id, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: challenge(), code_challenge_method: 'S256', state: 'client-state', resource: `${h.url}/mcp` })
  const { url: callback, cookies } = await loginThroughForm(`${h.url}/authorize?${q.toString()}`, 'alice', 'alice', {
    stopAt: `${h.url}/callback`,
    headers: { 'sec-fetch-site': 'none' },
    onForm: (html, pageUrl) => html.includes('name="decision"') ? formSubmission(html, pageUrl, { button: { name: 'decision', value: 'allow' } }) : undefined
  })
  const visit = async (url: URL | string): Promise<Response> => fetch(url, { redirect: 'manual', headers: { cookie: cookies.header(new URL(url)) ?? '' } })

  const forged = new URL(callback)
  forged.searchParams.set('state', 'A'.repeat(43))
  const bad = await visit(forged)
  t.equal(bad.status, 400, 'a state gatehouse never issued: error page')
  t.equal(bad.headers.get('location'), null, 'and no redirect')
  const noState = new URL(callback)
  noState.searchParams.delete('state')
  t.equal((await visit(noState)).status, 400, 'no state: error page')

  const first = await visit(callback)
  t.equal(first.status, 303, 'the real callback redirects to the client')
  const back = new URL(first.headers.get('location') as string)
  t.equal(back.searchParams.get('state'), 'client-state', "the client's state comes back unchanged")
  t.ok(back.searchParams.get('code'), 'with a code')
  const replay = await visit(callback)
  t.equal(replay.status, 400, 'the replayed callback is an error page')
  t.equal(replay.headers.get('location'), null, 'no redirect, so no second code')

  // Another browser (no binding cookie) cannot complete someone else's sign-in.
  const { url: callback2 } = await loginThroughForm(`${h.url}/authorize?${q.toString()}`, 'alice', 'alice', {
    stopAt: `${h.url}/callback`,
    headers: { 'sec-fetch-site': 'none' },
    onForm: (html, pageUrl) => html.includes('name="decision"') ? formSubmission(html, pageUrl, { button: { name: 'decision', value: 'allow' } }) : undefined
  })
  const stolen = await fetch(callback2, { redirect: 'manual' })
  t.equal(stolen.status, 403, 'a callback replayed from another browser is refused')
  t.equal(stolen.headers.get('location'), null, 'without a redirect')
})
