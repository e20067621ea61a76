// GET /authorize with a Client ID Metadata Document client: the real app, the real fetcher, and the
// document served over real HTTPS from a local server (see test/upstream/client-metadata-documents.test.ts).
import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { createMetadataDocumentFetcher, LOOPBACK_FOR_TESTS } from '../../src/upstream/client-metadata-documents.ts'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../support/app.ts'
import { makeCertificates, startHttpsServer } from '../support/tls.ts'

const HOST = 'mcp-client.example.test'
const certs = await makeCertificates([HOST])
const server = await startHttpsServer(certs)
t.teardown(() => server.close())
const base = `https://${HOST}:${server.port}`
const REDIRECT_URI = 'http://127.0.0.1/callback'

function serveDocument (path: string, document: (url: string) => Record<string, unknown>): string {
  const url = `${base}${path}`
  server.handle(path, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document(url))))
  return url
}

const good = serveDocument('/good/client.json', url => ({ client_id: url, client_name: 'Metadata Document Client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }))
const impostor = serveDocument('/impostor/client.json', () => ({ client_id: 'https://trusted.example.com/client.json', client_name: 'Impostor', redirect_uris: [REDIRECT_URI] }))

function authorizeUrl (clientId: string, redirectUri: string): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url')
  const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' })
  return `/authorize?${query.toString()}`
}

async function app (t: Test): Promise<FastifyInstance> {
  const metadataDocuments = createMetadataDocumentFetcher({ clock: { now: () => Math.floor(Date.now() / 1000) }, ca: certs.ca, resolver: async () => ['127.0.0.1'], allowLoopbackForTests: LOOPBACK_FOR_TESTS })
  return (await buildTestApp(t, { services: { metadataDocuments } })).app
}

t.test('a client_id URL whose document lists the redirect URI gets the consent page', async t => {
  const res = await (await app(t)).inject({ method: 'GET', url: authorizeUrl(good, REDIRECT_URI) })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /Metadata Document Client/)
  t.match(res.body, /name="transaction"/)
})

t.test('draft §4: a document whose client_id is not its URL gets an error page, never a redirect', async t => {
  const res = await (await app(t)).inject({ method: 'GET', url: authorizeUrl(impostor, REDIRECT_URI) })
  t.equal(res.headers.location, undefined)
  t.equal(res.statusCode, 401)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /client_id does not match/)
  t.notMatch(res.body, /Impostor/)
})

t.test('RFC 9700 §4.1.3: a redirect_uri the document does not list gets an error page, never a redirect', async t => {
  const res = await (await app(t)).inject({ method: 'GET', url: authorizeUrl(good, 'https://attacker.example/callback') })
  t.equal(res.headers.location, undefined)
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /redirect_uri is not registered/)
})

t.test('draft §8.6: a client_id URL whose host resolves to a private address gets an error page and no fetch', async t => {
  const before = server.requests.length
  const metadataDocuments = createMetadataDocumentFetcher({ clock: { now: () => 0 }, ca: certs.ca, resolver: async () => ['10.0.0.1'] })
  const { app: guarded } = await buildTestApp(t, { services: { metadataDocuments } })
  const res = await guarded.inject({ method: 'GET', url: authorizeUrl(good, REDIRECT_URI) })
  t.equal(res.headers.location, undefined)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /not a public address/)
  t.notMatch(res.body, /10\.0\.0\.1/)
  t.equal(server.requests.length, before)
})
