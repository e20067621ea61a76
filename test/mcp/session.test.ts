// Legacy-era session ids (src/mcp/session.ts) as pure functions: bound to the caller they were issued to and
// expiring after SESSION_TTL_SECONDS — and, having no key, computable by anyone who knows the caller, which is
// accepted because a session grants nothing (every request is authorized by its own bearer token). The
// routes' 404 is in test/routes/mcp-sessions.test.ts.
import t from 'tap'
import { createHash } from 'node:crypto'
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js'
import { MAX_SESSION_ID, SESSION_TTL_SECONDS, checkSession, issueSession } from '../../src/mcp/session.ts'
import type { Caller } from '../../src/mcp/caller.ts'

const NOW = 1_800_000_000
const alice: Caller = { sub: 'alice', groups: [], scopes: ['mcp:read'], clientId: 'client-a', grantId: 'grant-1', issuer: 'https://gatehouse.example', expiresAt: NOW + 3600 }

t.test('a session id carries the negotiated version and a nonce, until it expires', async t => {
  const id = issueSession(alice, '2025-11-25', NOW)
  t.match(checkSession(alice, id, NOW), { version: '2025-11-25', expiresAt: NOW + SESSION_TTL_SECONDS, nonce: /^[A-Za-z0-9_-]{22}$/ })
  t.ok(checkSession(alice, id, NOW + SESSION_TTL_SECONDS - 1), 'live one second before it expires')
  t.equal(checkSession(alice, id, NOW + SESSION_TTL_SECONDS), undefined, 'expired from that second on')
  t.not(issueSession(alice, '2025-11-25', NOW), issueSession(alice, '2025-11-25', NOW), 'a random nonce: no two alike')
})

t.test('every id the server issues is one it accepts: nothing in it grows with what the client sends', async t => {
  // The longest inputs: the longest supported version, the longest identity in use here, an expiry far out.
  const longest = SUPPORTED_PROTOCOL_VERSIONS.reduce((a, b) => (b.length > a.length ? b : a))
  const big: Caller = { ...alice, sub: 's'.repeat(255), clientId: `https://client.example/${'c'.repeat(2000)}`, issuer: `https://${'i'.repeat(200)}.example` }
  const id = issueSession(big, longest, 9_999_999_999)
  t.ok(id.length <= MAX_SESSION_ID, `${id.length} characters, at most ${MAX_SESSION_ID}`)
  t.ok(checkSession(big, id, 9_999_999_998), 'accepted by checkSession')
})

t.test('bound to issuer, subject and client: any other caller gets nothing; a new grant of the same (step-up) keeps it', async t => {
  const id = issueSession(alice, '2025-11-25', NOW)
  for (const [what, other] of [
    ['another subject', { ...alice, sub: 'bob' }],
    ['another client', { ...alice, clientId: 'client-b' }],
    ['another issuer', { ...alice, issuer: 'https://other.example' }]
  ] as const) t.equal(checkSession(other, id, NOW), undefined, what)
  t.ok(checkSession({ ...alice, grantId: 'grant-2', scopes: ['mcp:read', 'mcp:write'] }, id, NOW), 'the same user and client after a step-up (a new grant)')
  const external: Caller = { ...alice, grantId: undefined }
  t.ok(checkSession(external, issueSession(external, '2025-06-18', NOW), NOW), 'a caller without a grant has sessions too')
})

t.test('not secret: anyone who knows issuer, subject and client computes a valid id with any version and expiry (it grants nothing)', async t => {
  // Recomputed here from the public inputs alone, as a client could: no key is involved.
  const payload = Buffer.from(JSON.stringify({ version: '2025-03-26', expiresAt: NOW + 100 * SESSION_TTL_SECONDS, nonce: 'chosen-by-the-client' })).toString('base64url')
  const tag = createHash('sha256').update(`gatehouse mcp session gh1\0${JSON.stringify([alice.issuer, alice.sub, alice.clientId])}\0${payload}`).digest('base64url')
  const minted = `gh1.${payload}.${tag}`
  t.same(checkSession(alice, minted, NOW), { version: '2025-03-26', expiresAt: NOW + 100 * SESSION_TTL_SECONDS, nonce: 'chosen-by-the-client' }, 'accepted for that caller')
  t.equal(checkSession({ ...alice, sub: 'bob' }, minted, NOW), undefined, 'and for no one else: the binding is what holds')
})

t.test('an id edited without its tag recomputed, truncated or malformed is refused, never thrown on', async t => {
  const id = issueSession(alice, '2025-11-25', NOW)
  const [format, payload, tag] = id.split('.') as [string, string, string]
  const longer = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), expiresAt: NOW + 10 * SESSION_TTL_SECONDS })).toString('base64url')
  for (const bad of [`${format}.${longer}.${tag}`, `${format}.${payload}.${tag.slice(1)}`, `gh2.${payload}.${tag}`, `${id}.x`, `${format}.${payload}`, '', '...', `${format}.!!!.${tag}`, `${format}.${Buffer.from('not json').toString('base64url')}.${tag}`, id + 'A'.repeat(1024)]) {
    t.equal(checkSession(alice, bad, NOW), undefined, JSON.stringify(bad.slice(0, 40)))
  }
})
