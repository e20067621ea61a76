// A key service (KMS) failure while issuing tokens is a 503 that burns nothing, so the client's retry succeeds:
// a refresh (legacy RT# tokens too) signs before its single-use write; a code exchange signs after consuming
// the code and gives it back when signing fails.
import t, { type Test } from 'tap'
import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalKeySet } from '../../src/crypto/local-keys.ts'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import type { KeySet } from '../../src/ports/keys.ts'
import { authorize, exchangeCode, postForm, registerClient, startHarness, CLIENT_REDIRECT } from '../support/oauth-harness.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { randomToken, sha256 } from '../../src/oauth/secrets.ts'

/** A key set whose next `failures.next` signatures fail as a throttled KMS Sign would. */
async function failingKeys (t: Test): Promise<{ keys: KeySet, failures: { next: number } }> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-keys-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const real = await LocalKeySet.open({ dataDir: dir })
  const failures = { next: 0 }
  const keys: KeySet = {
    get current () {
      const signer = real.current
      return { kid: signer.kid, sign: async (data: Uint8Array) => { if (failures.next > 0) { failures.next--; throw new KeyServiceError('KMS Sign throttled') } return await signer.sign(data) } }
    },
    publicKeys: async () => await real.publicKeys()
  }
  return { keys, failures }
}

t.test('a signing failure answers 503 temporarily_unavailable and leaves the code and refresh token usable', async t => {
  const { keys, failures } = await failingKeys(t)
  const h = await startHarness(t, { services: { keys } })
  const c = await registerClient(h)
  const a = await authorize(h, c.client)
  const form = { grant_type: 'authorization_code', code: a.redirect.searchParams.get('code') as string, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier, client_id: c.client.client_id }
  failures.next = 1
  const failed = await postForm(h.as.token_endpoint as string, form)
  t.equal(failed.status, 503)
  t.equal(failed.body.error, 'temporarily_unavailable')
  const retried = await postForm(h.as.token_endpoint as string, form)
  t.equal(retried.status, 200, 'the retry redeems the same code')
  const refresh = { grant_type: 'refresh_token', refresh_token: retried.body.refresh_token as string, client_id: c.client.client_id }
  failures.next = 1
  t.equal((await postForm(h.as.token_endpoint as string, refresh)).status, 503)
  const rotated = await postForm(h.as.token_endpoint as string, refresh)
  t.equal(rotated.status, 200, 'the retry rotates the same refresh token (no false reuse)')
  t.ok(rotated.body.access_token)
})

t.test('a refresh token issued before tokens moved onto their grant (its own item) is not used up by a signing failure', async t => {
  const { keys, failures } = await failingKeys(t)
  const h = await startHarness(t, { services: { keys } })
  const c = await registerClient(h)
  const tokens = await exchangeCode(h, c, await authorize(h, c.client))
  // A grant and refresh token in the shape stored before the change: no token on the grant, an RT# item.
  const template = await h.store.store.findGrant((JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid)
  const gid = `legacy${randomToken(12)}`
  const { refreshToken: _token, retiredRefreshTokens: _retired, ...old } = { ...template!, grantId: gid }
  await h.store.store.saveGrant(old)
  const legacy = randomToken()
  const hash = sha256(legacy)
  const now = Math.floor(Date.now() / 1000)
  const dynamo = createDynamoClient({ region: 'us-east-1', endpoint: h.store.endpoint })
  t.teardown(() => dynamo.destroy())
  await dynamo.send(new PutItemCommand({ TableName: h.store.table, Item: { pk: { S: `RT#${hash}` }, sk: { S: `RT#${hash}` }, kind: { S: 'refresh_token' }, tokenHash: { S: hash }, grantId: { S: gid }, clientId: { S: c.client.client_id }, scope: { L: [{ S: 'mcp:read' }] }, createdAt: { N: String(now) }, expiresAt: { N: String(now + 3600) } } }))
  const form = { grant_type: 'refresh_token', refresh_token: legacy, client_id: c.client.client_id }
  failures.next = 1
  t.equal((await postForm(h.as.token_endpoint as string, form)).status, 503)
  t.equal((await h.store.store.findRefreshToken(hash))?.usedAt, undefined, 'the legacy token is not marked used')
  const retried = await postForm(h.as.token_endpoint as string, form)
  t.equal(retried.status, 200, 'the retry refreshes')
  t.equal((await h.store.store.findGrant(gid))?.revokedAt, undefined, 'and the grant is not revoked')
})
