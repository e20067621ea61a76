// A single-use write that committed but whose answer was lost (DynamoDB answered 500 after applying it): the
// store client retries it, the retry fails its own condition, and the request must recognise its own write
// instead of taking it for a replay. The 500 comes from a proxy in front of the emulator that lets the write
// through and replaces only its answer (test/support/aws-proxy.ts), so the SDK's real retry runs.
import t from 'tap'
import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { authorize, exchangeCode, postForm, registerClient, startHarness, CLIENT_REDIRECT } from '../support/oauth-harness.ts'
import { startTestStore } from '../support/store.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { SYSTEM_CLOCK } from '../../src/ports/clock.ts'
import { randomToken, sha256 } from '../../src/oauth/secrets.ts'

const backing = await startTestStore(t)
const proxy = await startAwsProxy(backing.endpoint)
t.teardown(() => proxy.close())
const client = createDynamoClient({ region: 'us-east-1', endpoint: proxy.endpoint, timeoutMs: 3000 })
t.teardown(() => client.destroy())
const store = new DynamoStore({ client, table: backing.table, clock: SYSTEM_CLOCK, timeoutMs: 3000 })
const h = await startHarness(t, { store: { ...backing, store } })
const LOST_ANSWER = { type: 'InternalServerError', status: 500, message: 'applied, answer lost', afterApplying: true }

const gidOf = (accessToken: string): string => (JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid

/** The UpdateItem requests the proxy saw while `run` ran. */
async function updatesDuring<T> (run: () => Promise<T>): Promise<{ result: T, updates: number }> {
  const before = proxy.requests.length
  const result = await run()
  return { result, updates: proxy.requests.slice(before).filter(r => r.operation === 'UpdateItem').length }
}

t.test('a refresh whose rotation committed but answered 500 succeeds on the retry and revokes nothing', async t => {
  const c = await registerClient(h)
  const tokens = await exchangeCode(h, c, await authorize(h, c.client))
  const gid = gidOf(tokens.access_token)
  proxy.fail('UpdateItem', LOST_ANSWER)
  const { result: rotated, updates } = await updatesDuring(() => postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: c.client.client_id }))
  t.equal(updates, 2, 'the rotation was sent twice (the SDK retried it)')
  t.equal(rotated.status, 200, 'the refresh succeeds')
  const grant = await store.findGrant(gid)
  t.equal(grant?.revokedAt, undefined, 'the grant is not revoked')
  t.equal(grant?.refreshToken?.tokenHash, sha256(rotated.body.refresh_token as string), 'the grant holds the token it answered with')
  const next = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string, client_id: c.client.client_id })
  t.equal(next.status, 200, 'which rotates in turn')
})

t.test('a code exchange whose consuming write committed but answered 500 succeeds on the retry', async t => {
  const c = await registerClient(h)
  const authorized = await authorize(h, c.client)
  const code = authorized.redirect.searchParams.get('code') as string
  const form = { grant_type: 'authorization_code', code, redirect_uri: CLIENT_REDIRECT, code_verifier: authorized.verifier, client_id: c.client.client_id, resource: `${h.url}/mcp` }
  proxy.fail('UpdateItem', LOST_ANSWER)
  const { result: exchanged, updates } = await updatesDuring(() => postForm(h.as.token_endpoint as string, form))
  t.equal(updates, 2, 'the consuming write was sent twice (the SDK retried it)')
  t.equal(exchanged.status, 200, 'the exchange succeeds')
  t.equal((await store.findGrant(gidOf(exchanged.body.access_token as string)))?.revokedAt, undefined, 'its grant is not revoked')
  const replay = await postForm(h.as.token_endpoint as string, form)
  t.equal(replay.body.error, 'invalid_grant', 'the same code from another request is still a replay')
  t.ok((await store.findGrant(gidOf(exchanged.body.access_token as string)))?.revokedAt, 'and revokes the grant')
})

t.test('a legacy refresh token (its own RT# item) whose marking as used committed but answered 500 still refreshes', async t => {
  const c = await registerClient(h)
  const tokens = await exchangeCode(h, c, await authorize(h, c.client))
  // The grant and token in the shape stored before refresh tokens moved onto their grant.
  const { refreshToken: _token, retiredRefreshTokens: _retired, ...template } = (await store.findGrant(gidOf(tokens.access_token)))!
  const gid = `legacy${randomToken(12)}`
  await store.saveGrant({ ...template, grantId: gid })
  const legacy = randomToken()
  const hash = sha256(legacy)
  const now = Math.floor(Date.now() / 1000)
  await client.send(new PutItemCommand({ TableName: backing.table, Item: { pk: { S: `RT#${hash}` }, sk: { S: `RT#${hash}` }, kind: { S: 'refresh_token' }, tokenHash: { S: hash }, grantId: { S: gid }, clientId: { S: c.client.client_id }, scope: { L: [{ S: 'mcp:read' }] }, createdAt: { N: String(now) }, expiresAt: { N: String(now + 3600) } } }))
  proxy.fail('UpdateItem', LOST_ANSWER)
  const { result: refreshed, updates } = await updatesDuring(() => postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: legacy, client_id: c.client.client_id }))
  t.equal(updates, 3, 'marking it used was sent twice (the SDK retried it), then the grant got its new-form token')
  t.equal(refreshed.status, 200, 'the refresh succeeds')
  t.equal((await store.findGrant(gid))?.revokedAt, undefined, 'the grant is not revoked')
})
