// A throwaway CA and a server certificate for test hostnames, made with the openssl CLI (Node cannot issue
// X.509 certificates itself), plus a real HTTPS server on 127.0.0.1 that records what reached it.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCertificates {
  /** PEM of the CA that signed `cert`; give it to the client as its only trust anchor. */
  ca: string
  cert: string
  key: string
}

/** Issues a P-256 CA and a server certificate whose subjectAltName lists `hostnames`. */
export async function makeCertificates (hostnames: string[]): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-tls-'))
  try {
    const file = (name: string): string => join(dir, name)
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    await run('openssl', ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=gatehouse test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
      '-keyout', file('ca.key'), '-out', file('ca.pem')])
    await run('openssl', ['req', '-new', ...ec, '-subj', `/CN=${hostnames[0] ?? 'localhost'}`, '-keyout', file('server.key'), '-out', file('server.csr')])
    await writeFile(file('server.ext'), [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${hostnames.map(h => `DNS:${h}`).join(',')}`
    ].join('\n'))
    await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem')])
    const [ca, cert, key] = await Promise.all(['ca.pem', 'server.pem', 'server.key'].map(async name => await readFile(file(name), 'utf8')))
    return { ca: ca as string, cert: cert as string, key: key as string }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface SeenRequest {
  path: string
  host: string | undefined
  servername: string | false | undefined
}

export interface TestHttpsServer {
  server: Server
  port: number
  /** Every request that reached a handler. */
  requests: SeenRequest[]
  /** Every TCP connection accepted (also those that never sent a request). */
  connections: () => number
  /** Routes by path; an unknown path gets 404. */
  handle: (path: string, handler: (req: IncomingMessage, res: ServerResponse) => void) => void
  close: () => Promise<void>
}

/** An HTTPS server on 127.0.0.1 with the given certificate. */
export async function startHttpsServer (certs: TestCertificates): Promise<TestHttpsServer> {
  const handlers = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>()
  const requests: SeenRequest[] = []
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const path = req.url ?? ''
    requests.push({ path, host: req.headers.host, servername: (req.socket as Socket & { servername?: string | false }).servername })
    const handler = handlers.get(path)
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    handler(req, res)
  })
  server.on('connection', (socket: Socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    requests,
    connections: () => connections,
    handle: (path, handler) => { handlers.set(path, handler) },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
