// Races on the single-use transitions (DESIGN decisions 3, 4 and 8; RFC 9700 §4.13-4.14): many copies of one
// request fired at once over real HTTP, each with its exact expected outcome and the store checked afterwards.
import t from 'tap'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { createHash, randomBytes } from 'node:crypto'
import { authorize, postForm, registerClient, startHarness, CLIENT_REDIRECT, type Harness } from '../support/oauth-harness.ts'
import { buildTestApp } from '../support/app.ts'
import { makeCertificates, startHttpsServer } from '../support/tls.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { createMetadataDocumentFetcher, LOOPBACK_FOR_TESTS } from '../../src/upstream/client-metadata-documents.ts'
import { sha256 } from '../../src/oauth/secrets.ts'

const N = 50

async function kinds (h: { store: { endpoint: string, table: string } }): Promise<Record<string, number>> {
  const client = createDynamoClient({ region: 'us-east-1', endpoint: h.store.endpoint })
  try {
    const counts: Record<string, number> = {}
    const page = await client.send(new ScanCommand({ TableName: h.store.table }))
    for (const item of page.Items ?? []) counts[item.kind?.S ?? '?'] = (counts[item.kind?.S ?? '?'] ?? 0) + 1
    return counts
  } finally { client.destroy() }
}

async function mcpStatus (h: Harness, token: string): Promise<number> {
  const res = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
  await res.arrayBuffer()
  return res.status
}

t.test(`${N} concurrent redemptions of one code: exactly one success, and the grant it produced is revoked (RFC 9700 §4.13)`, async t => {
  // GRANT_CACHE_TTL=0: /mcp sees a revocation at once.
  const h = await startHarness(t, { env: { GRANT_CACHE_TTL: '0' } })
  // Two rounds: /token allows 120 requests a minute.
  for (let round = 0; round < 2; round++) {
    const c = await registerClient(h)
    const a = await authorize(h, c.client)
    const fields = { grant_type: 'authorization_code', code: a.redirect.searchParams.get('code') as string, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier, client_id: c.client.client_id, resource: `${h.url}/mcp` }
    const answers = await Promise.all(Array.from({ length: N }, () => postForm(h.as.token_endpoint as string, fields, { 'x-forwarded-for': `10.9.${round}.${Math.floor(Math.random() * 250)}` })))
    const winners = answers.filter(r => r.status === 200)
    const losers = answers.filter(r => r.status !== 200)
    const statuses = [...new Set(answers.map(r => `${r.status} ${r.body?.error ?? ''}`))]
    t.equal(winners.length, 1, `round ${round}: exactly one redemption succeeds (${statuses.join(', ')})`)
    t.ok(losers.every(r => r.status === 400 && r.body.error === 'invalid_grant'), `round ${round}: every other one is invalid_grant (${statuses.join(', ')})`)
    const won = winners[0]?.body as { access_token: string, refresh_token: string } | undefined
    if (won === undefined) continue
    // The losers presented a consumed code: reuse detection revoked what the winner got.
    const refresh = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: won.refresh_token, client_id: c.client.client_id })
    t.equal(refresh.body.error, 'invalid_grant', `round ${round}: the winner's refresh token is dead`)
    t.equal(await mcpStatus(h, won.access_token), 401, `round ${round}: the winner's access token is refused at /mcp`)
  }
  const counts = await kinds(h)
  t.equal(counts.grant, 2, 'one grant record per code (holding its one refresh token), no duplicates')
  t.equal(counts.refresh_token, undefined, 'no refresh token stored anywhere else')
})

t.test('a reuse that lands while the first redemption is still saving its grant still revokes it', async t => {
  // The interleaving the 50-way race hits only sometimes, made certain: the winner's saveGrant (the first one
  // called) is held back until a second redemption of the same code has finished.
  const { startTestStore } = await import('../support/store.ts')
  const testStore = await startTestStore(t)
  let hold: Promise<void> | undefined
  const store = new Proxy(testStore.store, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function') return value
      const bound = (value as (...args: unknown[]) => Promise<unknown>).bind(target)
      if (property !== 'saveGrant') return bound
      return async (...args: unknown[]) => { const wait = hold; hold = undefined; if (wait !== undefined) await wait; return await bound(...args) }
    }
  })
  const h = await startHarness(t, { store: testStore, services: { store }, env: { GRANT_CACHE_TTL: '0' } })
  const c = await registerClient(h)
  const a = await authorize(h, c.client)
  const fields = { grant_type: 'authorization_code', code: a.redirect.searchParams.get('code') as string, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier, client_id: c.client.client_id }
  let release: () => void = () => {}
  hold = new Promise(resolve => { release = resolve })
  const first = postForm(h.as.token_endpoint as string, fields)
  await new Promise(resolve => setTimeout(resolve, 300)) // the first one has consumed the code and waits in saveGrant
  const second = await postForm(h.as.token_endpoint as string, fields)
  t.equal(second.body.error, 'invalid_grant', 'the reuse is refused')
  release()
  const won = await first
  if (won.status === 200) {
    t.equal(await mcpStatus(h, won.body.access_token), 401, 'the access token the first redemption got is refused')
    const refresh = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: won.body.refresh_token, client_id: c.client.client_id })
    t.equal(refresh.body.error, 'invalid_grant', 'and its refresh token is dead')
  } else {
    t.equal(won.body.error, 'invalid_grant', 'or the first redemption is refused outright: nothing was issued')
  }
})

t.test(`${N} concurrent refreshes with one refresh token: exactly one winner, then the whole family is revoked`, async t => {
  const h = await startHarness(t, { env: { GRANT_CACHE_TTL: '0' } })
  const c = await registerClient(h)
  const a = await authorize(h, c.client)
  const first = await postForm(h.as.token_endpoint as string, { grant_type: 'authorization_code', code: a.redirect.searchParams.get('code') as string, redirect_uri: CLIENT_REDIRECT, code_verifier: a.verifier, client_id: c.client.client_id })
  t.equal(first.status, 200)
  const gid = (JSON.parse(Buffer.from((first.body.access_token as string).split('.')[1] as string, 'base64url').toString()) as { gid: string }).gid
  const answers = await Promise.all(Array.from({ length: N }, (_, i) => postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: c.client.client_id }, { 'x-forwarded-for': `10.8.0.${i}` })))
  const winners = answers.filter(r => r.status === 200)
  t.equal(winners.length, 1, 'exactly one rotation succeeds')
  t.ok(answers.filter(r => r.status !== 200).every(r => r.status === 400 && r.body.error === 'invalid_grant'), 'every other one is invalid_grant')
  const won = winners[0]?.body as { access_token: string, refresh_token: string }
  const grant = await h.store.store.findGrant(gid)
  t.equal(grant?.refreshToken?.tokenHash, sha256(won.refresh_token), 'the grant holds the winner\'s token')
  t.strictSame(grant?.retiredRefreshTokens?.map(r => r.tokenHash), [sha256(first.body.refresh_token as string)], 'exactly one rotation took effect')
  const again = await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: won.refresh_token, client_id: c.client.client_id })
  t.equal(again.body.error, 'invalid_grant', 'the rotated token of the winner is revoked with the family')
  t.equal(await mcpStatus(h, won.access_token), 401, "the winner's access token is refused")
  t.equal(await mcpStatus(h, first.body.access_token), 401, 'the original access token is refused')
})

t.test('20 concurrent submissions of one consent form: one redirect upstream, every other one an error page', async t => {
  const h = await startHarness(t)
  const c = await registerClient(h)
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url')
  const query = new URLSearchParams({ client_id: c.client.client_id, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 's1', resource: `${h.url}/mcp` })
  const page = await fetch(`${h.url}/authorize?${query.toString()}`, { headers: { 'sec-fetch-site': 'cross-site' } })
  const html = await page.text()
  const cookie = (page.headers.getSetCookie()[0] ?? '').split(';')[0] as string
  const transaction = /name="transaction" value="([^"]+)"/.exec(html)?.[1] as string
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] as string
  t.ok(transaction !== undefined && csrf !== undefined && cookie !== '', 'consent page with its form and binding cookie')
  const answers = await Promise.all(Array.from({ length: 20 }, async () => {
    const res = await fetch(`${h.url}/authorize/consent`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ transaction, csrf_token: csrf, decision: 'allow' }) })
    return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type') ?? '', body: await res.text() }
  }))
  const upstream = answers.filter(a => a.status === 303)
  t.equal(upstream.length, 1, 'exactly one redirect')
  t.ok(upstream[0]?.location?.startsWith(h.idp.issuer), 'and it goes to the upstream IdP')
  const others = answers.filter(a => a.status !== 303)
  t.ok(others.every(a => a.status === 400 && a.type.startsWith('text/html') && a.body.includes('This request cannot continue')), 'every other submission gets the HTML error page')
  t.equal((await kinds(h)).transaction, 1, 'still one transaction record')
})

t.test('20 concurrent first uses of one Client ID Metadata Document URL: one fetch, one client view, no client record stored', async t => {
  const host = 'race-client.example.test'
  const certs = await makeCertificates([host])
  const server = await startHttpsServer(certs)
  t.teardown(() => server.close())
  const url = `https://${host}:${server.port}/client.json`
  server.handle('/client.json', (_req, res) => { setTimeout(() => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify({ client_id: url, client_name: 'Race', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' })), 100) })
  const metadataDocuments = createMetadataDocumentFetcher({ clock: { now: () => Math.floor(Date.now() / 1000) }, ca: certs.ca, resolver: async () => ['127.0.0.1'], allowLoopbackForTests: LOOPBACK_FOR_TESTS })
  const app = await buildTestApp(t, { services: { metadataDocuments } })
  const answers = await Promise.all(Array.from({ length: 20 }, () => {
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url')
    const query = new URLSearchParams({ client_id: url, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 's' })
    return app.app.inject({ method: 'GET', url: `/authorize?${query.toString()}` })
  }))
  t.ok(answers.every(a => a.statusCode === 200 && a.body.includes('Race')), 'every request gets the consent page for the document client')
  t.equal(server.requests.filter(r => r.path === '/client.json').length, 1, 'concurrent first uses share one fetch')
  const counts = await kinds(app)
  t.equal(counts.client ?? 0, 0, 'a metadata document client is never written to the registry')
  t.equal(counts.transaction, 20, 'one transaction per request, no more')
})
