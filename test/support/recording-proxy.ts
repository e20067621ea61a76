// A loopback HTTP proxy that records every request it passes on (method, path, headers, body) and streams
// the answer back untouched: what a backend behind the gateway actually receives.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface RecordedRequest { method: string, path: string, headers: IncomingHttpHeaders, body: string }

export interface RecordingProxy {
  /** http://127.0.0.1:<port> */
  origin: string
  requests: RecordedRequest[]
}

export async function startRecordingProxy (t: Test, target: string): Promise<RecordingProxy> {
  const upstream = new URL(target)
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: body.toString('utf8') })
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forward.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
      res.on('close', () => forward.destroy())
      forward.end(body)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}
