// The authorization code grant's checks that the single consuming write cannot make itself: the write
// compares S256(code_verifier) with the code's challenge, so the verifier's own form (RFC 7636 §4.1) is
// checked before it, and a malformed verifier still goes through the refusal path (a replayed code revokes).
import t from 'tap'
import { createHash } from 'node:crypto'
import { authorize, exchangeCode, postForm, registerClient, startHarness, CLIENT_REDIRECT } from '../support/oauth-harness.ts'
import { sha256 } from '../../src/oauth/secrets.ts'

const h = await startHarness(t, { env: { GRANT_CACHE_TTL: '0' } })
const gidOf = (accessToken: string): string => (JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid

async function redeem (clientId: string, code: string, verifier: string): Promise<{ status: number, body: any }> {
  return await postForm(h.as.token_endpoint as string, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT, client_id: clientId, resource: `${h.url}/mcp` })
}

t.test('RFC 7636 §4.1: a verifier that is not 43–128 unreserved characters never redeems, even when its S256 is the challenge', async t => {
  const c = await registerClient(h)
  const malformed: Array<[string, string, 'ascii' | 'utf8']> = [
    ['too short', 'abc', 'utf8'],
    ['too long', 'a'.repeat(129), 'utf8'],
    ['a reserved character', `${'a'.repeat(42)}+`, 'utf8'],
    // Hashed as ASCII, each 'é' is truncated to one byte: the challenge is made the way the server would hash it.
    ['not ASCII', 'é'.repeat(43), 'ascii']
  ]
  for (const [why, verifier, encoding] of malformed) {
    const challenge = createHash('sha256').update(verifier, encoding).digest('base64url')
    const authorized = await authorize(h, c.client, { extra: { code_challenge: challenge } })
    const code = authorized.redirect.searchParams.get('code') as string
    const refused = await redeem(c.client.client_id, code, verifier)
    t.equal(refused.status, 400, why)
    t.equal(refused.body.error, 'invalid_grant', `${why}: invalid_grant`)
    t.equal((await h.store.store.findCode(sha256(code)))?.consumedAt, undefined, `${why}: the code is left unconsumed`)
  }
})

t.test('RFC 6749 §4.1.2: a used code presented again with a malformed verifier still revokes the grant it produced', async t => {
  const c = await registerClient(h)
  const authorized = await authorize(h, c.client)
  const tokens = await exchangeCode(h, c, authorized)
  const replay = await redeem(c.client.client_id, authorized.redirect.searchParams.get('code') as string, 'abc')
  t.equal(replay.body.error, 'invalid_grant')
  t.ok((await h.store.store.findGrant(gidOf(tokens.access_token)))?.revokedAt, 'the grant is revoked')
})
