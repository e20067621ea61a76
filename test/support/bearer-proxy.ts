// A loopback HTTP proxy that puts a bearer token on every request and forwards everything else unchanged:
// method, path, body, and every end-to-end header the client sent — Host and Origin included, so the
// server's own Origin/Host checks see exactly what the client sent. For clients that cannot send an
// Authorization header themselves (the MCP conformance suite has no option for one), so that the real
// bearer guard, transport and tools answer them. Responses (JSON or SSE) are streamed back as they arrive.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Connection-level headers (RFC 9110 §7.6.1): they describe one hop, so each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

export interface BearerProxyOptions {
  /** Where requests go, e.g. http://127.0.0.1:3000 (its path prefix is ignored; request paths are kept). */
  target: string
  /** The access token to add as `Authorization: Bearer <token>`. */
  token: string
  /** Replace an Authorization header the client sent (default false: a client's own header is forwarded as is). */
  override?: boolean
}

export interface ForwardedRequest {
  method: string
  url: string
  /** The headers as they reached the proxy (before the token was added). */
  headers: IncomingHttpHeaders
  status?: number
}

export interface BearerProxy {
  /** http://127.0.0.1:<port> */
  url: string
  port: number
  /** Every request forwarded so far, in arrival order (the status is filled in when the answer starts). */
  readonly requests: readonly ForwardedRequest[]
  close: () => Promise<void>
}

/** Drops hop-by-hop headers, including any the Connection header names. */
function endToEnd (headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(String(headers.connection ?? '').split(',').map(h => h.trim().toLowerCase()).filter(h => h !== ''))
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue
    out[name] = value
  }
  return out
}

export async function startBearerProxy (options: BearerProxyOptions): Promise<BearerProxy> {
  const target = new URL(options.target)
  const requests: ForwardedRequest[] = []
  const open = new Set<ServerResponse>()

  const handle = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const record: ForwardedRequest = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: { ...incoming.headers } }
    requests.push(record)
    open.add(outgoing)
    outgoing.on('close', () => open.delete(outgoing))

    const headers = endToEnd(incoming.headers)
    // Host stays what the client sent (Node would otherwise set it to the target's host:port).
    if (incoming.headers.host !== undefined) headers.host = incoming.headers.host
    if (options.override === true || incoming.headers.authorization === undefined) headers.authorization = `Bearer ${options.token}`

    const upstream = httpRequest({
      host: target.hostname,
      port: target.port === '' ? 80 : Number(target.port),
      method: incoming.method,
      path: incoming.url,
      headers,
      setHost: false
    }, answer => {
      record.status = answer.statusCode
      outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers))
      outgoing.flushHeaders()
      answer.pipe(outgoing)
      answer.on('error', () => outgoing.destroy())
    })
    upstream.on('error', error => {
      if (outgoing.headersSent) { outgoing.destroy(); return }
      outgoing.writeHead(502, { 'content-type': 'text/plain' }).end(`bearer proxy: ${error.message}`)
    })
    // A client that goes away (an aborted SSE stream) ends the upstream request too.
    outgoing.on('close', () => { if (!outgoing.writableFinished) upstream.destroy() })
    incoming.pipe(upstream)
  }

  const server: Server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close () {
      for (const response of open) response.destroy()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
