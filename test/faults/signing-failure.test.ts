// A key service (KMS) failure while issuing tokens is a 503 that burns nothing: tokens are signed before the
// code or refresh token is consumed, so the client's retry succeeds.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalKeySet } from '../../src/crypto/local-keys.ts'
import { KeyServiceError } from '../../src/ports/cipher.ts'
import type { KeySet } from '../../src/ports/keys.ts'
import { authorize, postForm, registerClient, startHarness, CLIENT_REDIRECT } from '../support/oauth-harness.ts'

t.test('a signing failure answers 503 temporarily_unavailable and leaves the code and refresh token usable', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-keys-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const real = await LocalKeySet.open({ dataDir: dir })
  let failNext = 0
  const keys: KeySet = {
    get current () {
      const signer = real.current
      return { kid: signer.kid, sign: async (data: Uint8Array) => { if (failNext > 0) { failNext--; throw new KeyServiceError('KMS Sign throttled') } return await signer.sign(data) } }
    },
    publicKeys: async () => await real.publicKeys()
  }
  const h = await startHarness(t, { services: { keys } })
  const c = await registerClient(h)
  const a = await authorize(h, c.client)
  const form = { grant_type: 'authorization_code', code: a.redirect.searchParams.get('code') as string, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier, client_id: c.client.client_id }
  failNext = 1
  const failed = await postForm(h.as.token_endpoint as string, form)
  t.equal(failed.status, 503)
  t.equal(failed.body.error, 'temporarily_unavailable')
  const retried = await postForm(h.as.token_endpoint as string, form)
  t.equal(retried.status, 200, 'the retry redeems the same code')
  const refresh = { grant_type: 'refresh_token', refresh_token: retried.body.refresh_token as string, client_id: c.client.client_id }
  failNext = 1
  t.equal((await postForm(h.as.token_endpoint as string, refresh)).status, 503)
  const rotated = await postForm(h.as.token_endpoint as string, refresh)
  t.equal(rotated.status, 200, 'the retry rotates the same refresh token (no false reuse)')
  t.ok(rotated.body.access_token)
})
