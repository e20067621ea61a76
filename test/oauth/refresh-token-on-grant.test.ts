// Refresh tokens held on their grant (src/oauth/refresh-tokens.ts): RFC 9700 §4.14.2 rotation with reuse
// detection from the grant's own record, a made-up token naming a real grant id ending nothing, RFC 7009
// revocation and RFC 7662 introspection of the new form, and refresh tokens issued before the change (an
// item of their own, written here in exactly the old shape) still honoured until they expire.
import t from 'tap'
import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { authorize, exchangeCode, postForm, registerClient, registerResourceServer, startHarness, type Harness, type RegisteredClient } from '../support/oauth-harness.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { RETIRED_REFRESH_TOKENS_KEPT } from '../../src/oauth/refresh-tokens.ts'
import { randomToken, sha256 } from '../../src/oauth/secrets.ts'
import { createFakeClock } from '../support/store.ts'

interface LogLine { audit?: string, [key: string]: unknown }

const logLines: string[] = []
const h = await startHarness(t, { logLines, env: { GRANT_CACHE_TTL: '0' } })
const rs = await registerResourceServer(h)
const rsBasic = `Basic ${Buffer.from(`${rs.client.client_id}:${rs.secret as string}`).toString('base64')}`

const gidOf = (accessToken: string): string => (JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid
const audits = (name: string, grantId: string): LogLine[] => logLines.map(l => JSON.parse(l) as LogLine).filter(e => e.audit === name && e.grantId === grantId)

async function newGrant (registered?: RegisteredClient): Promise<{ registered: RegisteredClient, refreshToken: string, accessToken: string, gid: string }> {
  const c = registered ?? await registerClient(h)
  const tokens = await exchangeCode(h, c, await authorize(h, c.client))
  return { registered: c, refreshToken: tokens.refresh_token as string, accessToken: tokens.access_token, gid: gidOf(tokens.access_token) }
}

async function refresh (registered: RegisteredClient, refreshToken: string, extra: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  return await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: registered.client.client_id, ...extra })
}

async function introspect (token: string): Promise<any> {
  return (await postForm(h.as.introspection_endpoint as string, { token }, { authorization: rsBasic })).body
}

async function isRevoked (gid: string): Promise<boolean> {
  return (await h.store.store.findGrant(gid))?.revokedAt !== undefined
}

t.test('a refresh token names its grant, and the grant holds only its hash', async t => {
  const { refreshToken, gid } = await newGrant()
  t.equal(refreshToken.split('.')[0], gid, '<grantId>.<secret>')
  const grant = await h.store.store.findGrant(gid)
  t.equal(grant?.refreshToken?.tokenHash, sha256(refreshToken))
  t.strictSame(grant?.retiredRefreshTokens, [])
})

t.test('RFC 9700 §4.14.2: a rotated-out token presented again revokes the grant, however many rotations ago (within the kept ones)', async t => {
  const { registered, refreshToken: first, gid } = await newGrant()
  const chain = [first]
  for (let i = 0; i < 3; i++) {
    const rotated = await refresh(registered, chain.at(-1) as string)
    t.equal(rotated.status, 200)
    chain.push(rotated.body.refresh_token as string)
  }
  const latest = chain.at(-1) as string
  const reuse = await refresh(registered, first)
  t.equal(reuse.status, 400)
  t.equal(reuse.body.error, 'invalid_grant')
  t.ok(await isRevoked(gid), 'the grant is revoked')
  t.equal((await refresh(registered, latest)).body.error, 'invalid_grant', 'the family\'s live token is dead too')
  t.equal(audits('refresh.reuse_detected', gid).length, 1, 'refresh.reuse_detected')
  t.ok(audits('grant.revoked', gid).some(e => e.reason === 'refresh_reuse'), 'grant.revoked, reason refresh_reuse')
  t.equal((await refresh(registered, chain[1] as string)).body.error, 'invalid_grant', 'another rotated-out token, after the revocation')
  t.equal(audits('refresh.reuse_detected', gid).length, 1, 'is no second reuse event: only the revocation is audited')
  t.equal(audits('grant.revoked', gid).length, 1, 'and no second grant.revoked')
})

t.test('a made-up token naming a real grant id, or a real token from another client, ends nothing', async t => {
  const { registered, refreshToken, gid } = await newGrant()
  const forged = await refresh(registered, `${gid}.${randomToken()}`)
  t.equal(forged.body.error, 'invalid_grant')
  t.equal((await refresh(registered, `${gid}.`)).body.error, 'invalid_grant', 'no secret at all')
  const other = await registerClient(h)
  t.equal((await refresh(other, refreshToken)).body.error, 'invalid_grant', 'another client presenting the real token')
  t.equal((await postForm(h.as.revocation_endpoint as string, { token: `${gid}.${randomToken()}`, client_id: registered.client.client_id })).status, 200, '/revoke answers 200 for a made-up token')
  t.equal((await postForm(h.as.revocation_endpoint as string, { token: refreshToken, client_id: other.client.client_id })).status, 200, 'and for another client\'s token')
  t.equal((await introspect(`${gid}.${randomToken()}`)).active, false, 'introspection: inactive')
  t.notOk(await isRevoked(gid), 'the grant is not revoked')
  t.equal(audits('refresh.reuse_detected', gid).length, 0)
  t.equal((await refresh(registered, refreshToken)).status, 200, 'and the real token still rotates')
})

t.test('concurrent refreshes with the same token: exactly one wins, and the loser ends the family', async t => {
  const { registered, refreshToken, gid } = await newGrant()
  const answers = await Promise.all([0, 1, 2, 3].map(i => postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: registered.client.client_id }, { 'x-forwarded-for': `10.7.0.${i}` })))
  const winners = answers.filter(a => a.status === 200)
  t.equal(winners.length, 1, 'one rotation succeeds')
  t.ok(answers.filter(a => a.status !== 200).every(a => a.body.error === 'invalid_grant'), 'the others are invalid_grant')
  t.ok(await isRevoked(gid), 'the family is revoked (a race on one token is reuse)')
  t.equal((await refresh(registered, winners[0]?.body.refresh_token as string)).body.error, 'invalid_grant')
})

t.test(`the grant keeps the last ${RETIRED_REFRESH_TOKENS_KEPT} rotated-out tokens; when it refreshes once per access-token lifetime an older one is unknown, not reuse`, async t => {
  // A client that refreshes when its access token expires (here every 60 s): the oldest retired token is
  // forgotten at each rotation, and that is no sign of abuse.
  const clock = createFakeClock()
  const paced = await startHarness(t, { clock, env: { GRANT_CACHE_TTL: '0', ACCESS_TOKEN_TTL: '60' } })
  const registered = await registerClient(paced)
  const tokens = await exchangeCode(paced, registered, await authorize(paced, registered.client))
  const gid = gidOf(tokens.access_token)
  const chain = [tokens.refresh_token as string]
  const refreshPaced = async (token: string) => await postForm(paced.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: token, client_id: registered.client.client_id })
  for (let i = 0; i < RETIRED_REFRESH_TOKENS_KEPT + 4; i++) {
    clock.advance(60)
    const rotated = await refreshPaced(chain.at(-1) as string)
    t.equal(rotated.status, 200, `rotation ${i + 1}`)
    chain.push(rotated.body.refresh_token as string)
  }
  const grant = await paced.store.store.findGrant(gid)
  t.equal(grant?.retiredRefreshTokens?.length, RETIRED_REFRESH_TOKENS_KEPT, 'bounded')
  t.equal(grant?.retiredRefreshTokens?.[0]?.tokenHash, sha256(chain.at(-2) as string), 'newest first')
  t.equal(grant?.retiredRefreshTokens?.[0]?.retiredAt, clock.now(), 'with when it was rotated out')
  t.equal((await refreshPaced(chain[0] as string)).body.error, 'invalid_grant', 'the forgotten one is refused')
  t.notOk((await paced.store.store.findGrant(gid))?.revokedAt, 'without ending the grant')
  t.equal((await refreshPaced(chain.at(-2) as string)).body.error, 'invalid_grant', 'a kept one is reuse')
  t.ok((await paced.store.store.findGrant(gid))?.revokedAt, 'and ends it')
})

t.test('RFC 9700 §4.14.2: a thief cannot rotate the victim\'s token off the retired list: rotating faster than it can remember revokes the grant', async t => {
  // The thief refreshes with the stolen token in a burst, so that the victim's copy (rotated out first) would
  // be forgotten before the victim presents it again: the rotation that would forget a token retired less
  // than an access-token lifetime ago ends the grant instead.
  const { registered, refreshToken: victim, gid } = await newGrant()
  let thief = victim
  for (let i = 0; i < RETIRED_REFRESH_TOKENS_KEPT; i++) {
    const rotated = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: thief, client_id: registered.client.client_id }, { 'x-forwarded-for': '10.9.9.9' })
    t.equal(rotated.status, 200, `rotation ${i + 1} of ${RETIRED_REFRESH_TOKENS_KEPT}: the list still holds every token`)
    thief = rotated.body.refresh_token as string
  }
  const flood = await refresh(registered, thief)
  t.equal(flood.status, 400)
  t.equal(flood.body.error, 'invalid_grant', 'the rotation that would forget the victim\'s token is refused')
  t.ok(await isRevoked(gid), 'and the grant is revoked')
  t.equal(audits('refresh.flood_detected', gid).length, 1, 'refresh.flood_detected')
  t.ok(audits('grant.revoked', gid).some(e => e.reason === 'refresh_flood'), 'grant.revoked, reason refresh_flood')
  t.equal((await refresh(registered, thief)).body.error, 'invalid_grant', 'the thief\'s token is dead')
  t.equal((await refresh(registered, victim)).body.error, 'invalid_grant', 'and the victim\'s too')
})

t.test('RFC 6749 §6: a refresh asking for a narrower scope narrows its access token, not the new refresh token', async t => {
  const { registered, refreshToken: first, gid } = await newGrant()
  const granted = (await h.store.store.findGrant(gid))?.scope.join(' ')
  t.equal(granted, 'mcp:read mcp:write', 'the grant holds more than the narrowed scope')
  const narrowed = await refresh(registered, first, { scope: 'mcp:read' })
  t.equal(narrowed.body.scope, 'mcp:read', 'the access token is narrowed')
  t.equal((await introspect(narrowed.body.refresh_token as string)).scope, granted, 'the new refresh token keeps the scope of the one it replaced')
  const again = await refresh(registered, narrowed.body.refresh_token as string)
  t.equal(again.body.scope, granted, 'so the next refresh without a scope gets the original scope back')
})

t.test('RFC 7662 / RFC 7009: introspection sees the current token only; /revoke with a rotated-out token revokes the grant', async t => {
  const { registered, refreshToken: first, gid } = await newGrant()
  const rotated = await refresh(registered, first)
  const current = rotated.body.refresh_token as string
  const described = await introspect(current)
  t.match(described, { active: true, token_type: 'refresh_token', scope: (await h.store.store.findGrant(gid))?.scope.join(' '), client_id: registered.client.client_id, aud: `${h.url}/mcp` })
  t.equal((await introspect(first)).active, false, 'the rotated-out one is inactive')

  const { registered: other, refreshToken: otherFirst, gid: otherGid } = await newGrant()
  await refresh(other, otherFirst)
  t.equal((await postForm(h.as.revocation_endpoint as string, { token: otherFirst, client_id: other.client.client_id })).status, 200)
  t.ok(await isRevoked(otherGid), 'revoked by its rotated-out token')
  t.ok(audits('grant.revoked', otherGid).some(e => e.reason === 'client_revocation'))
  t.notOk(await isRevoked(gid), 'the other grant is untouched')
})

/** A refresh token as gatehouse stored them before they moved onto the grant: its own RT# item. */
async function legacyToken (c: RegisteredClient, grantId: string, scope: string[]): Promise<string> {
  const token = randomToken()
  const hash = sha256(token)
  const now = Math.floor(Date.now() / 1000)
  const client = createDynamoClient({ region: 'us-east-1', endpoint: h.store.endpoint })
  try {
    await client.send(new PutItemCommand({
      TableName: h.store.table,
      Item: {
        pk: { S: `RT#${hash}` }, sk: { S: `RT#${hash}` }, kind: { S: 'refresh_token' },
        tokenHash: { S: hash }, grantId: { S: grantId }, clientId: { S: c.client.client_id },
        scope: { L: scope.map(s => ({ S: s })) }, createdAt: { N: String(now) }, expiresAt: { N: String(now + 14 * 86400) }
      },
      ConditionExpression: 'attribute_not_exists(pk)'
    }))
  } finally { client.destroy() }
  return token
}

/** A grant as stored before the change: no refresh token on it. */
async function legacyGrant (h: Harness): Promise<{ registered: RegisteredClient, gid: string }> {
  const { registered, gid: template } = await newGrant()
  const grant = await h.store.store.findGrant(template)
  const gid = `legacy${randomToken(12)}`
  const { refreshToken: _token, retiredRefreshTokens: _retired, ...old } = { ...grant!, grantId: gid }
  await h.store.store.saveGrant(old)
  return { registered, gid }
}

t.test('a refresh token issued before the change (its own item) still refreshes, once, and moves its grant onto the new form', async t => {
  const { registered, gid } = await legacyGrant(h)
  const old = await legacyToken(registered, gid, ['mcp:read', 'mcp:write'])
  t.match(await introspect(old), { active: true, token_type: 'refresh_token', client_id: registered.client.client_id }, 'introspection still knows it')
  const moved = await refresh(registered, old)
  t.equal(moved.status, 200, 'it refreshes')
  t.equal(gidOf(moved.body.access_token as string), gid, 'from its own grant')
  const next = moved.body.refresh_token as string
  t.equal(next.split('.')[0], gid, 'the new token is of the new form')
  t.equal((await h.store.store.findGrant(gid))?.refreshToken?.tokenHash, sha256(next))
  t.equal((await h.store.store.findRefreshToken(sha256(old)))?.usedAt !== undefined, true, 'the old item is marked used')
  const after = await refresh(registered, next)
  t.equal(after.status, 200, 'the new-form token rotates in turn')
  const reuse = await refresh(registered, old)
  t.equal(reuse.body.error, 'invalid_grant', 'the old token again is reuse')
  t.ok(await isRevoked(gid), 'and revokes the grant')
  t.equal((await refresh(registered, after.body.refresh_token as string)).body.error, 'invalid_grant', 'with the new-form token')
})

t.test('a legacy refresh token can still be revoked (RFC 7009), and a legacy token of another client cannot refresh', async t => {
  const { registered, gid } = await legacyGrant(h)
  const old = await legacyToken(registered, gid, ['mcp:read'])
  const other = await registerClient(h)
  t.equal((await refresh(other, old)).body.error, 'invalid_grant')
  t.notOk(await isRevoked(gid))
  t.equal((await postForm(h.as.revocation_endpoint as string, { token: old, client_id: registered.client.client_id })).status, 200)
  t.ok(await isRevoked(gid), 'revoked')
  t.equal((await refresh(registered, old)).body.error, 'invalid_grant')
})

t.test('a legacy refresh token refused for its request (a scope it does not hold) is not used up: the corrected retry refreshes', async t => {
  const { registered, gid } = await legacyGrant(h)
  const old = await legacyToken(registered, gid, ['mcp:read'])
  const refused = await refresh(registered, old, { scope: 'mcp:write' })
  t.equal(refused.body.error, 'invalid_scope')
  t.equal((await h.store.store.findRefreshToken(sha256(old)))?.usedAt, undefined, 'the legacy token is not marked used')
  const retried = await refresh(registered, old)
  t.equal(retried.status, 200, 'the retry without the extra scope refreshes')
  t.notOk(await isRevoked(gid), 'and the grant is not revoked')
})
