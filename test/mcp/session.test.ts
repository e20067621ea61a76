// Legacy-era session ids (src/mcp/session.ts) as pure functions: bound to the caller they were issued to,
// expiring after SESSION_TTL_SECONDS, and refused when any part is edited. The routes' 404 is in
// test/routes/mcp-sessions.test.ts.
import t from 'tap'
import { SESSION_TTL_SECONDS, checkSession, issueSession } from '../../src/mcp/session.ts'
import type { Caller } from '../../src/mcp/caller.ts'

const NOW = 1_800_000_000
const alice: Caller = { sub: 'alice', groups: [], scopes: ['mcp:read'], clientId: 'client-a', grantId: 'grant-1', issuer: 'https://gatehouse.example', expiresAt: NOW + 3600 }

t.test('a session id carries the negotiated version and the client\'s capability names, until it expires', async t => {
  const id = issueSession(alice, '2025-11-25', { sampling: {}, elicitation: { form: {} }, 'bad name!': {} }, NOW)
  t.match(checkSession(alice, id, NOW), { version: '2025-11-25', capabilities: ['elicitation', 'sampling'], expiresAt: NOW + SESSION_TTL_SECONDS })
  t.ok(checkSession(alice, id, NOW + SESSION_TTL_SECONDS - 1), 'live one second before it expires')
  t.equal(checkSession(alice, id, NOW + SESSION_TTL_SECONDS), undefined, 'expired from that second on')
  t.not(issueSession(alice, '2025-11-25', {}, NOW), issueSession(alice, '2025-11-25', {}, NOW), 'a random nonce: no two alike')
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`cap${String(i).padStart(2, '0')}`, {}]))
  t.equal(checkSession(alice, issueSession(alice, '2025-11-25', many, NOW), NOW)?.capabilities.length, 16, 'at most 16 capability names')
})

t.test('bound to issuer, subject and client: any other caller gets nothing; a new grant of the same (step-up) keeps it', async t => {
  const id = issueSession(alice, '2025-11-25', {}, NOW)
  for (const [what, other] of [
    ['another subject', { ...alice, sub: 'bob' }],
    ['another client', { ...alice, clientId: 'client-b' }],
    ['another issuer', { ...alice, issuer: 'https://other.example' }]
  ] as const) t.equal(checkSession(other, id, NOW), undefined, what)
  t.ok(checkSession({ ...alice, grantId: 'grant-2', scopes: ['mcp:read', 'mcp:write'] }, id, NOW), 'the same user and client after a step-up (a new grant)')
  const external: Caller = { ...alice, grantId: undefined }
  t.ok(checkSession(external, issueSession(external, '2025-06-18', {}, NOW), NOW), 'a caller without a grant has sessions too')
})

t.test('an edited, truncated or malformed session id is refused, never thrown on', async t => {
  const id = issueSession(alice, '2025-11-25', {}, NOW)
  const [format, payload, tag] = id.split('.') as [string, string, string]
  const longer = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), expiresAt: NOW + 10 * SESSION_TTL_SECONDS })).toString('base64url')
  for (const bad of [`${format}.${longer}.${tag}`, `${format}.${payload}.${tag.slice(1)}`, `gh2.${payload}.${tag}`, `${id}.x`, `${format}.${payload}`, '', '...', `${format}.!!!.${tag}`, `${format}.${Buffer.from('not json').toString('base64url')}.${tag}`, id + 'A'.repeat(1024)]) {
    t.equal(checkSession(alice, bad, NOW), undefined, JSON.stringify(bad.slice(0, 40)))
  }
})
