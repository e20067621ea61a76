// The Client ID Metadata Document fetcher against a real local HTTPS server. "client.example.test" does not
// resolve on this machine: every successful fetch proves the connection went to the address the injected
// resolver returned and the fetcher vetted, while SNI, the certificate check and Host used the hostname.
import t, { type Test } from 'tap'
import { InvalidClientError } from '../../src/oauth/errors.ts'
import { createMetadataDocumentFetcher, LOOPBACK_FOR_TESTS, type MetadataDocumentFetcherOptions } from '../../src/upstream/client-metadata-documents.ts'
import { makeCertificates, startHttpsServer } from '../support/tls.ts'

const HOST = 'client.example.test'
const certs = await makeCertificates([HOST])
const server = await startHttpsServer(certs)
t.teardown(() => server.close())
const base = `https://${HOST}:${server.port}`

let now = 1_800_000_000
const clock = { now: () => now }

interface Harness {
  fetcher: ReturnType<typeof createMetadataDocumentFetcher>
  resolutions: string[]
}

function harness (addresses: string[] = ['127.0.0.1'], options: Partial<MetadataDocumentFetcherOptions> = {}): Harness {
  const resolutions: string[] = []
  const fetcher = createMetadataDocumentFetcher({
    clock,
    ca: certs.ca,
    resolver: async (hostname) => { resolutions.push(hostname); return addresses },
    allowLoopbackForTests: LOOPBACK_FOR_TESTS,
    ...options
  })
  return { fetcher, resolutions }
}

let paths = 0
/** A fresh path on the test server serving a valid document (or what `respond` sends). */
function serve (respond?: (url: string, res: import('node:http').ServerResponse) => void): { url: string, hits: () => number } {
  const path = `/clients/${++paths}/metadata.json`
  const url = `${base}${path}`
  server.handle(path, (_req, res) => {
    if (respond !== undefined) return respond(url, res)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(url)))
  })
  return { url, hits: () => server.requests.filter(r => r.path === path).length }
}

function documentFor (url: string): Record<string, unknown> {
  return { client_id: url, client_name: 'Example MCP client', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' }
}

async function refusal (t: Test, promise: Promise<unknown>, description: RegExp): Promise<InvalidClientError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  t.type(error, InvalidClientError, 'refused with invalid_client')
  const invalid = error as InvalidClientError
  t.match(invalid.description, description)
  return invalid
}

t.test('a valid document is fetched from the vetted address, with SNI and Host the hostname', async t => {
  const { fetcher, resolutions } = harness()
  const { url, hits } = serve()
  t.same(await fetcher.fetch(url), documentFor(url))
  t.equal(hits(), 1)
  const seen = server.requests.at(-1)
  t.equal(seen?.host, `${HOST}:${server.port}`)
  t.equal(seen?.servername, HOST, 'SNI is the hostname, not the pinned IP')
  t.same(resolutions, [HOST], 'resolved once, by the fetcher; the socket did not look the name up again')
})

t.test('application/<as-defined>+json is accepted (draft §4)', async t => {
  const { fetcher } = harness()
  const { url } = serve((u, res) => res.writeHead(200, { 'content-type': 'application/client-metadata+json; charset=utf-8' }).end(JSON.stringify(documentFor(u))))
  t.same(await fetcher.fetch(url), documentFor(url))
})

t.test('§8.6 SSRF: hosts resolving to special-use addresses are refused before any connection', async t => {
  const { url, hits } = serve()
  const connectionsBefore = server.connections()
  const forbidden = ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fd00::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '100.64.0.1', '172.16.0.1', '192.168.1.1', '0.0.0.0', '::', 'fe80::1', '224.0.0.1', '64:ff9b::7f00:1']
  for (const address of forbidden) {
    // The guard as production runs it: no test switch.
    const { fetcher } = harness([address], { allowLoopbackForTests: undefined })
    const error = await refusal(t, fetcher.fetch(url), /not a public address/)
    t.notOk(error.description.includes(address), `${address}: the public description does not echo the address`)
    t.match(error.detail, address, `${address}: the log detail names it`)
  }
  t.equal(hits(), 0, 'the server saw no request')
  t.equal(server.connections(), connectionsBefore, 'no connection was even opened')
})

t.test('the test switch admits 127.0.0.1 only, only as the exported symbol, and never alongside a bad address', async t => {
  const { url, hits } = serve()
  for (const addresses of [['10.0.0.1'], ['::1'], ['::ffff:127.0.0.1'], ['127.0.0.2'], ['127.0.0.1', '10.0.0.1']]) {
    await refusal(t, harness(addresses).fetcher.fetch(url), /not a public address/)
  }
  const forged = { allowLoopbackForTests: true as unknown as typeof LOOPBACK_FOR_TESTS }
  await refusal(t, harness(['127.0.0.1'], forged).fetcher.fetch(url), /not a public address/)
  t.equal(hits(), 0)
})

t.test('§3 Client Identifier URL rules are enforced before any lookup', async t => {
  const { fetcher, resolutions } = harness()
  const bad = [
    `http://${HOST}:${server.port}/client.json`,
    `${base}`,
    `${base}/`,
    `${base}/client.json?x=1`,
    `${base}/client.json?`,
    `${base}/client.json#frag`,
    `${base}/client.json#`,
    `https://user:pass@${HOST}:${server.port}/client.json`,
    `https://user@${HOST}:${server.port}/client.json`,
    `${base}/a/../client.json`,
    `${base}/a/%2e%2e/client.json`,
    `https://${HOST}:443/client.json`,
    `https://CLIENT.example.test:${server.port}/client.json`,
    `https://127.0.0.1:${server.port}/client.json`,
    `https://[::1]:${server.port}/client.json`,
    `https://2130706433/client.json`,
    `https://localhost:${server.port}/client.json`,
    `https://metadata:${server.port}/client.json`,
    `https://${HOST}./client.json`,
    `${base}/${'a'.repeat(2000)}`,
    'not a url'
  ]
  for (const url of bad) await refusal(t, fetcher.fetch(url), /not a valid Client Identifier URL/)
  t.same(resolutions, [], 'nothing was resolved')
})

t.test('§5: redirects are not followed, even to a public address, and never to a private one', async t => {
  const { fetcher, resolutions } = harness()
  const target = serve()
  for (const location of ['https://10.0.0.1/client.json', 'https://169.254.169.254/latest/meta-data/', target.url]) {
    const { url, hits } = serve((_u, res) => res.writeHead(302, { location }).end())
    const error = await refusal(t, fetcher.fetch(url), /redirects/)
    t.notOk(error.description.includes(location), 'the target is not echoed to the client')
    t.equal(hits(), 1)
  }
  t.equal(target.hits(), 0, 'the redirect target was never requested')
  t.equal(resolutions.length, 3, 'one resolution per fetch: the Location was never resolved')
})

t.test('§5: any status other than 200 is an error', async t => {
  const { fetcher } = harness()
  for (const status of [201, 204, 404, 500]) {
    const { url } = serve((u, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(status === 204 ? undefined : JSON.stringify(documentFor(u))))
    await refusal(t, fetcher.fetch(url), new RegExp(`HTTP ${status}`))
  }
})

t.test('§8.7 maximum response size: a declared or streamed body over the limit is refused', async t => {
  const { fetcher } = harness(['127.0.0.1'], { maxBytes: 1024 })
  const padded = (u: string): string => JSON.stringify({ ...documentFor(u), padding: 'x'.repeat(2000) })
  const declared = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(padded(u)))
  await refusal(t, fetcher.fetch(declared.url), /larger than 1024 bytes/)
  const streamed = serve((u, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    const body = padded(u)
    res.write(body.slice(0, 900))
    setTimeout(() => res.end(body.slice(900)), 20)
  })
  await refusal(t, fetcher.fetch(streamed.url), /larger than 1024 bytes/)
  const fits = serve()
  t.ok(await fetcher.fetch(fits.url), 'a document under the limit still passes')
})

t.test('a compressed body is refused rather than inflated', async t => {
  const { fetcher } = harness()
  const { url } = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(JSON.stringify(documentFor(u))))
  await refusal(t, fetcher.fetch(url), /compressed/)
})

t.test('the time limit covers the whole fetch: a server that never answers, and one that trickles', async t => {
  const { fetcher } = harness(['127.0.0.1'], { timeoutMs: 300 })
  const silent = serve(() => {})
  let started = Date.now()
  await refusal(t, fetcher.fetch(silent.url), /timed out/)
  t.ok(Date.now() - started < 1500, `gave up after ${Date.now() - started} ms`)
  const trickle = serve((u, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const body = JSON.stringify(documentFor(u))
    let i = 0
    const timer = setInterval(() => {
      if (res.destroyed || i >= body.length) { clearInterval(timer); if (!res.destroyed) res.end(); return }
      res.write(body[i++])
    }, 50)
  })
  started = Date.now()
  await refusal(t, fetcher.fetch(trickle.url), /timed out/)
  t.ok(Date.now() - started < 1500, `gave up after ${Date.now() - started} ms`)
  const slowDns = createMetadataDocumentFetcher({ clock, timeoutMs: 200, resolver: async () => await new Promise<string[]>(() => {}) })
  started = Date.now()
  await refusal(t, slowDns.fetch(serve().url), /timed out/)
  t.ok(Date.now() - started < 1500, 'a hanging resolver is bounded too')
})

t.test('§4: only a JSON object served as JSON, whose client_id is its URL, is accepted', async t => {
  const { fetcher } = harness()
  const cases: Array<[string, string, RegExp]> = [
    ['text/html', '<html>hi</html>', /application\/json/],
    ['text/plain', '{}', /application\/json/],
    ['application/json', 'not json', /not valid JSON/],
    ['application/json', '[1,2]', /not a JSON object/],
    ['application/json', 'null', /not a JSON object/],
    ['application/json', '"https://x"', /not a JSON object/]
  ]
  for (const [type, body, description] of cases) {
    const { url } = serve((_u, res) => res.writeHead(200, { 'content-type': type }).end(body))
    await refusal(t, fetcher.fetch(url), description)
  }
  const other = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(JSON.stringify({ ...documentFor(u), client_id: 'https://elsewhere.example/client.json' })))
  await refusal(t, fetcher.fetch(other.url), /client_id does not match/)
  await refusal(t, fetcher.fetch(other.url), /client_id does not match/)
  t.equal(other.hits(), 2, '§5.2: an invalid document is not cached')
})

t.test('§5.2 caching: a hit avoids a second request and max-age is honoured', async t => {
  const { fetcher } = harness()
  const { url, hits } = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=120' }).end(JSON.stringify(documentFor(u))))
  const first = await fetcher.fetch(url) as Record<string, unknown>
  first.client_name = 'mutated by a caller'
  t.same(await fetcher.fetch(url), documentFor(url), 'served from the cache, unaffected by callers')
  t.equal(hits(), 1)
  now += 119
  await fetcher.fetch(url)
  t.equal(hits(), 1, 'still fresh at 119 s')
  now += 2
  await fetcher.fetch(url)
  t.equal(hits(), 2, 'fetched again once max-age has passed')
})

t.test('§5.2 caching: the lifetime is bounded above and below; no-store and no-cache are not cached', async t => {
  const { fetcher } = harness(['127.0.0.1'], { cacheTtlMaxSeconds: 600, cacheTtlMinSeconds: 30 })
  const long = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=31536000' }).end(JSON.stringify(documentFor(u))))
  await fetcher.fetch(long.url)
  now += 599
  await fetcher.fetch(long.url)
  t.equal(long.hits(), 1)
  now += 2
  await fetcher.fetch(long.url)
  t.equal(long.hits(), 2, 'a year of max-age is capped at the configured maximum')

  const short = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=1' }).end(JSON.stringify(documentFor(u))))
  await fetcher.fetch(short.url)
  now += 29
  await fetcher.fetch(short.url)
  t.equal(short.hits(), 1, 'held for at least the minimum')

  for (const directive of ['no-store', 'no-cache', 'max-age=600, no-store']) {
    const uncached = serve((u, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': directive }).end(JSON.stringify(documentFor(u))))
    await fetcher.fetch(uncached.url)
    await fetcher.fetch(uncached.url)
    t.equal(uncached.hits(), 2, `${directive}: every fetch goes to the client`)
  }
})

t.test('§5.2: error responses are not cached', async t => {
  const { fetcher } = harness()
  let calls = 0
  const { url, hits } = serve((u, res) => {
    if (++calls === 1) res.writeHead(503, { 'cache-control': 'max-age=600' }).end()
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(u)))
  })
  await refusal(t, fetcher.fetch(url), /HTTP 503/)
  t.same(await fetcher.fetch(url), documentFor(url))
  t.equal(hits(), 2)
})

t.test('concurrent fetches of one URL share a single request', async t => {
  const { fetcher, resolutions } = harness()
  const { url, hits } = serve((u, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(documentFor(u))), 100))
  const results = await Promise.all(Array.from({ length: 8 }, async () => await fetcher.fetch(url)))
  t.equal(hits(), 1)
  t.equal(resolutions.length, 1)
  for (const result of results) t.same(result, documentFor(url))
  t.not(results[0], results[1], 'each caller gets its own copy')

  const failing = serve((_u, res) => setTimeout(() => res.writeHead(404).end(), 100))
  const outcomes = await Promise.allSettled(Array.from({ length: 4 }, async () => await fetcher.fetch(failing.url)))
  t.ok(outcomes.every(o => o.status === 'rejected'))
  t.equal(failing.hits(), 1, 'a shared failure is one request too')
})

t.test('the cache is bounded and evicts the least recently used document', async t => {
  const { fetcher } = harness(['127.0.0.1'], { cacheMaxEntries: 2 })
  const [a, b, c] = [serve(), serve(), serve()] as const
  await fetcher.fetch(a.url)
  await fetcher.fetch(b.url)
  await fetcher.fetch(a.url) // a is now the most recent
  await fetcher.fetch(c.url) // evicts b
  await fetcher.fetch(a.url)
  t.equal(a.hits(), 1, 'a stayed cached')
  await fetcher.fetch(b.url)
  t.equal(b.hits(), 2, 'b was evicted')
})

t.test('a certificate not issued for the hostname is refused', async t => {
  const other = await makeCertificates(['other.example.test'])
  const { fetcher } = harness(['127.0.0.1'], { ca: other.ca })
  const { url, hits } = serve()
  const error = await refusal(t, fetcher.fetch(url), /could not be fetched/)
  t.match(error.detail, /127\.0\.0\.1/)
  t.equal(hits(), 0)
})

t.test('§5.2 caching: without max-age, Expires − Date gives the lifetime', async t => {
  const { fetcher } = harness(['127.0.0.1'], { cacheTtlMinSeconds: 10 })
  const date = new Date(1_900_000_000_000)
  const { url, hits } = serve((u, res) => res.writeHead(200, {
    'content-type': 'application/json',
    date: date.toUTCString(),
    expires: new Date(date.getTime() + 200_000).toUTCString()
  }).end(JSON.stringify(documentFor(u))))
  await fetcher.fetch(url)
  now += 199
  await fetcher.fetch(url)
  t.equal(hits(), 1)
  now += 2
  await fetcher.fetch(url)
  t.equal(hits(), 2)
})

t.test('a body that is not UTF-8 is refused', async t => {
  const { fetcher } = harness()
  const { url } = serve((_u, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])))
  await refusal(t, fetcher.fetch(url), /not valid UTF-8/)
})

t.test('without an injected resolver the system resolver is used, and a name that does not resolve is refused', async t => {
  const fetcher = createMetadataDocumentFetcher({ clock, timeoutMs: 3000 })
  await refusal(t, fetcher.fetch('https://gatehouse-test.invalid/client.json'), /could not be resolved|timed out/)
})
