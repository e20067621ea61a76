// Fetches Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) with SSRF guards:
// the host is resolved here, every address it resolves to must be public unicast, and the connection is
// pinned to the vetted address (SNI, certificate check and Host stay the hostname) so a DNS answer that
// changes between the check and the connect cannot redirect the request. Redirects are never followed.
import { lookup as dnsLookup } from 'node:dns/promises'
import { request as httpsRequest } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { isIP, type LookupFunction } from 'node:net'
import type { ClientMetadataDocumentFetcher } from '../ports/client-metadata.ts'
import { InvalidClientError } from '../oauth/errors.ts'
import type { Clock } from '../ports/clock.ts'
import { vetAddress, type VettedAddress } from './ip-ranges.ts'

/**
 * Test-only: lets 127.0.0.1 pass the address check. A symbol so that nothing parsed from configuration or
 * the environment can switch it on; only code that imports it can.
 */
export const LOOPBACK_FOR_TESTS: unique symbol = Symbol('gatehouse.cimd.loopback-for-tests')

/** Hostname → the addresses it resolves to (all of them; each one is vetted). */
export type HostResolver = (hostname: string) => Promise<string[]>

export interface MetadataDocumentFetcherOptions {
  clock: Clock
  /** Whole fetch, DNS to last body byte. */
  timeoutMs?: number
  /** The draft recommends reading at most 5 KB; real clients publish more, so the default is 32 KiB. */
  maxBytes?: number
  /** Upper bound on a cached document's lifetime, whatever Cache-Control says. */
  cacheTtlMaxSeconds?: number
  /** Lower bound, so a client cannot make every authorization request a fetch (unless it sends no-store/no-cache). */
  cacheTtlMinSeconds?: number
  /** Lifetime when the response says nothing about caching. */
  cacheTtlDefaultSeconds?: number
  cacheMaxEntries?: number
  resolver?: HostResolver
  /** Trusted CA certificates (replaces the default roots); for tests with a local CA. */
  ca?: string | Buffer | Array<string | Buffer>
  allowLoopbackForTests?: typeof LOOPBACK_FOR_TESTS
}

const DEFAULTS = {
  timeoutMs: 5000,
  maxBytes: 32 * 1024,
  cacheTtlMaxSeconds: 3600,
  cacheTtlMinSeconds: 60,
  cacheTtlDefaultSeconds: 300,
  cacheMaxEntries: 500
}
const MAX_URL_LENGTH = 2000
const MAX_HOSTNAME_LENGTH = 253
const JSON_CONTENT_TYPE = /^application\/(?:[a-z0-9!#$&^_.+-]+\+)?json\s*(?:;|$)/i

function refused (description: string, detail?: string): InvalidClientError {
  return new InvalidClientError(description, detail)
}

/**
 * Client Identifier URL rules (draft §3): https, no userinfo, a path other than "/", no dot segments, no
 * fragment. The query is a SHOULD NOT in the draft; gatehouse refuses it. The URL must already be in the
 * WHATWG-normalised form (lower-case host, no default port, no dot segments) because the document's
 * client_id is compared to it as a plain string and what is fetched must be exactly what is compared.
 * Hosts must be DNS names: IP literals, single labels and localhost are refused before any lookup.
 */
export function parseClientIdUrl (raw: string): URL {
  const bad = (why: string): InvalidClientError => refused(`client_id is not a valid Client Identifier URL: ${why}`)
  if (raw.length > MAX_URL_LENGTH) throw bad('it is too long')
  let url: URL
  try { url = new URL(raw) } catch { throw bad('it is not a URL') }
  if (url.protocol !== 'https:') throw bad('it must use https')
  if (url.username !== '' || url.password !== '' || raw.slice(8).split('/')[0]?.includes('@') === true) throw bad('it must not contain credentials')
  if (raw.includes('#')) throw bad('it must not contain a fragment')
  if (raw.includes('?')) throw bad('it must not contain a query')
  if (url.pathname === '/' || url.pathname === '') throw bad('it must have a path')
  if (url.href !== raw) throw bad('it must be in normalised form (lower-case host, no default port, no dot segments)')
  const host = url.hostname
  if (host.startsWith('[') || isIP(host) !== 0 || /^[0-9.]+$/.test(host)) throw bad('its host must be a DNS name, not an IP address')
  if (host.length > MAX_HOSTNAME_LENGTH || !host.includes('.') || host.endsWith('.')) throw bad('its host must be a fully qualified DNS name')
  if (host === 'localhost' || host.endsWith('.localhost')) throw bad('its host must not be localhost')
  return url
}

const systemResolver: HostResolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true })
  return answers.map(a => a.address)
}

interface FetchedDocument {
  body: string
  ttlSeconds: number
}

interface CacheEntry {
  body: string
  expiresAt: number
}

/** Seconds the response may be reused for, per RFC 9111 §4.2.1 (max-age, else Expires − Date), minus Age. */
export function freshnessSeconds (headers: IncomingMessage['headers'], bounds: { min: number, max: number, fallback: number }): number {
  const cacheControl = String(headers['cache-control'] ?? '').toLowerCase()
  let maxAge: number | undefined
  for (const part of cacheControl.split(',')) {
    const [name, value] = part.trim().split('=', 2).map(s => s.trim())
    if (name === 'no-store' || name === 'no-cache') return 0
    if (name === 'max-age' && value !== undefined) {
      const seconds = Number(value.replace(/^"(.*)"$/, '$1'))
      if (Number.isInteger(seconds) && seconds >= 0) maxAge = seconds
    }
  }
  if (String(headers.pragma ?? '').toLowerCase().includes('no-cache') && cacheControl === '') return 0
  let lifetime = maxAge
  if (lifetime === undefined && typeof headers.expires === 'string') {
    const expires = Date.parse(headers.expires)
    const date = typeof headers.date === 'string' ? Date.parse(headers.date) : Number.NaN
    // An unparseable Expires means "already expired" (RFC 9111 §5.3); the lower bound still applies.
    lifetime = Number.isNaN(expires) || Number.isNaN(date) ? 0 : Math.floor((expires - date) / 1000)
  }
  lifetime ??= bounds.fallback
  const age = Number(headers.age)
  if (Number.isFinite(age) && age > 0) lifetime -= Math.floor(age)
  return Math.min(bounds.max, Math.max(bounds.min, lifetime))
}

export function createMetadataDocumentFetcher (options: MetadataDocumentFetcherOptions): ClientMetadataDocumentFetcher {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs
  const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes
  const ttlBounds = {
    max: options.cacheTtlMaxSeconds ?? DEFAULTS.cacheTtlMaxSeconds,
    min: Math.min(options.cacheTtlMinSeconds ?? DEFAULTS.cacheTtlMinSeconds, options.cacheTtlMaxSeconds ?? DEFAULTS.cacheTtlMaxSeconds),
    fallback: options.cacheTtlDefaultSeconds ?? DEFAULTS.cacheTtlDefaultSeconds
  }
  const cacheMaxEntries = options.cacheMaxEntries ?? DEFAULTS.cacheMaxEntries
  const resolve = options.resolver ?? systemResolver
  const allowLoopback = options.allowLoopbackForTests === LOOPBACK_FOR_TESTS
  const { clock, ca } = options
  // Insertion order is recency order: a hit is re-inserted, the oldest key is evicted first.
  const cache = new Map<string, CacheEntry>()
  const inFlight = new Map<string, Promise<FetchedDocument>>()

  function vet (address: string): VettedAddress | undefined {
    if (allowLoopback && address === '127.0.0.1') return { address, family: 4 }
    return vetAddress(address)
  }

  async function resolveAndVet (hostname: string, deadline: Promise<never>): Promise<VettedAddress> {
    let addresses: string[]
    try {
      addresses = await Promise.race([resolve(hostname), deadline])
    } catch (error) {
      if (error instanceof InvalidClientError) throw error
      throw refused('the client_id URL host could not be resolved', `${hostname}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
    if (addresses.length === 0) throw refused('the client_id URL host could not be resolved', `${hostname}: no addresses`)
    // Every answer must be acceptable: refusing only the bad ones would let a mixed answer pass.
    let pinned: VettedAddress | undefined
    for (const address of addresses) {
      const vetted = vet(address)
      if (vetted === undefined) throw refused('the client_id URL host is not a public address this server fetches from', `${hostname} resolved to ${address}`)
      pinned ??= vetted
    }
    return pinned as VettedAddress
  }

  function download (url: URL, pinned: VettedAddress, deadline: Promise<never>): Promise<FetchedDocument> {
    // The socket connects to the vetted address whatever name it is asked to look up.
    const pinnedLookup = ((_hostname: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      if (lookupOptions.all === true) callback(null, [{ address: pinned.address, family: pinned.family }])
      else callback(null, pinned.address, pinned.family)
    }) as unknown as LookupFunction
    return new Promise<FetchedDocument>((resolvePromise, reject) => {
      let settled = false
      const req = httpsRequest({
        protocol: 'https:',
        hostname: url.hostname,
        port: url.port === '' ? 443 : Number(url.port),
        path: url.pathname,
        method: 'GET',
        headers: { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'gatehouse (client-id-metadata-document)' },
        servername: url.hostname,
        lookup: pinnedLookup,
        family: pinned.family,
        agent: false,
        minVersion: 'TLSv1.2',
        maxHeaderSize: 16 * 1024,
        ...(ca === undefined ? {} : { ca })
      })
      const fail = (error: InvalidClientError): void => {
        if (settled) return
        settled = true
        req.destroy()
        reject(error)
      }
      deadline.catch(fail)
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(refused('the client metadata document could not be fetched', `${url.host} via ${pinned.address}: ${error.code ?? error.message}`))
      })
      req.on('response', (res) => {
        const peer = res.socket.remoteAddress
        if (peer !== pinned.address && peer !== `::ffff:${pinned.address}`) {
          fail(refused('the client metadata document could not be fetched', `connected to ${String(peer)}, not the vetted ${pinned.address}`))
          return
        }
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400) {
          fail(refused('the client_id URL redirects; Client ID Metadata Documents must be served without redirects', `HTTP ${status} to ${String(res.headers.location).slice(0, 200)}`))
          return
        }
        if (status !== 200) {
          fail(refused(`the client metadata document could not be fetched (HTTP ${status})`))
          return
        }
        const type = res.headers['content-type'] ?? ''
        if (!JSON_CONTENT_TYPE.test(type)) {
          fail(refused('the client metadata document must be served as application/json', `content-type ${type.slice(0, 100)}`))
          return
        }
        const encoding = (res.headers['content-encoding'] ?? 'identity').toLowerCase()
        if (encoding !== 'identity') {
          fail(refused('the client metadata document must not be compressed', `content-encoding ${encoding.slice(0, 50)}`))
          return
        }
        const tooLarge = (): InvalidClientError => refused(`the client metadata document is larger than ${maxBytes} bytes`)
        if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
          fail(tooLarge())
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) fail(tooLarge())
          else chunks.push(chunk)
        })
        res.on('error', (error: Error) => fail(refused('the client metadata document could not be fetched', `body: ${error.message}`)))
        res.on('close', () => { if (!res.complete) fail(refused('the client metadata document could not be fetched', 'connection closed before the end of the body')) })
        res.on('end', () => {
          if (settled) return
          let body: string
          try {
            body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
          } catch {
            fail(refused('the client metadata document is not valid UTF-8 JSON'))
            return
          }
          settled = true
          resolvePromise({ body, ttlSeconds: freshnessSeconds(res.headers, ttlBounds) })
        })
      })
      req.end()
    })
  }

  async function fetchDocument (raw: string): Promise<FetchedDocument> {
    const url = parseClientIdUrl(raw)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(refused('fetching the client metadata document timed out', `${url.host} after ${timeoutMs} ms`)), timeoutMs)
    })
    deadline.catch(() => {})
    try {
      const pinned = await resolveAndVet(url.hostname, deadline)
      const fetched = await download(url, pinned, deadline)
      parseDocument(raw, fetched.body)
      return fetched
    } finally {
      clearTimeout(timer)
    }
  }

  function remember (url: string, fetched: FetchedDocument): void {
    if (fetched.ttlSeconds <= 0) return
    cache.delete(url)
    cache.set(url, { body: fetched.body, expiresAt: clock.now() + fetched.ttlSeconds })
    while (cache.size > cacheMaxEntries) {
      const oldest = cache.keys().next().value
      if (oldest === undefined) break
      cache.delete(oldest)
    }
  }

  return {
    async fetch (url: string): Promise<unknown> {
      const hit = cache.get(url)
      if (hit !== undefined) {
        cache.delete(url)
        if (hit.expiresAt > clock.now()) {
          cache.set(url, hit)
          return JSON.parse(hit.body)
        }
      }
      // Concurrent requests for one URL share a single fetch. Failures are not cached (draft §5.2).
      let pending = inFlight.get(url)
      if (pending === undefined) {
        pending = fetchDocument(url).then(
          (fetched) => { remember(url, fetched); return fetched },
          (error: unknown) => { throw error instanceof InvalidClientError ? error : refused('the client metadata document could not be fetched', (error as Error).message) }
        ).finally(() => { inFlight.delete(url) })
        inFlight.set(url, pending)
      }
      return parseDocument(url, (await pending).body)
    }
  }
}

/** A JSON object whose client_id is the URL it came from; anything else is neither returned nor cached. */
function parseDocument (url: string, body: string): Record<string, unknown> {
  let document: unknown
  try { document = JSON.parse(body) } catch { throw refused('the client metadata document is not valid JSON') }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw refused('the client metadata document is not a JSON object')
  if ((document as { client_id?: unknown }).client_id !== url) throw refused('client metadata document client_id does not match its URL')
  return document as Record<string, unknown>
}
