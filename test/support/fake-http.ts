// A loopback HTTP server for the fake upstreams (JIRA, Jenkins), with faults a test can queue in front of
// the real behaviour: a canned answer (429, 500, garbage), a delay, or a connection reset.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeRequest {
  method: string
  url: URL
  headers: IncomingMessage['headers']
  body: string
}

export interface FakeAnswer {
  status: number
  headers?: Record<string, string | string[]>
  body?: string
}

export type Fault =
  | { kind: 'answer', answer: FakeAnswer }
  | { kind: 'delay', ms: number }
  | { kind: 'reset' }

export interface FakeServer {
  url: string
  /** Every request the server received, faults included. */
  requests: FakeRequest[]
  /** Queued faults, each used by one request, in order. */
  faults: Fault[]
  close (): Promise<void>
}

export const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}): FakeAnswer =>
  ({ status, headers: { 'content-type': 'application/json;charset=UTF-8', ...headers }, body: JSON.stringify(value) })

export async function startFakeServer (handle: (request: FakeRequest) => FakeAnswer | Promise<FakeAnswer>): Promise<FakeServer> {
  const requests: FakeRequest[] = []
  const faults: Fault[] = []
  const send = (res: ServerResponse, answer: FakeAnswer): void => {
    res.writeHead(answer.status, answer.headers ?? {})
    res.end(answer.body ?? '')
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const request: FakeRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://fake'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(request)
      const fault = faults.shift()
      const run = async (): Promise<void> => {
        if (fault?.kind === 'reset') { req.socket.destroy(); return }
        if (fault?.kind === 'answer') { send(res, fault.answer); return }
        if (fault?.kind === 'delay') await new Promise(resolve => setTimeout(resolve, fault.ms))
        if (res.destroyed) return
        send(res, await handle(request))
      }
      run().catch(() => { if (!res.headersSent) send(res, { status: 500, body: 'fake failed' }) })
    })
  })
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

/** The user and password of a Basic Authorization header, if it is one (RFC 7617). */
export function basicCredentials (header: string | undefined): { user: string, password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '')
  if (match === null) return undefined
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
