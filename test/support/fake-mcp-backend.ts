// A loopback MCP backend whose every path misbehaves in its own way (or answers properly), for the gateway's
// fault tests. It records what it receives.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface FakeBackend {
  origin: string
  received: Array<{ path: string, method: string, headers: IncomingHttpHeaders, body: string }>
}

const TOOLS = [{ name: 'echo', inputSchema: { type: 'object' } }, { name: 'admin-reset', inputSchema: { type: 'object' } }, { name: 'deploy-prod', inputSchema: { type: 'object' } }]

function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}

export async function startFakeBackend (t: Test): Promise<FakeBackend> {
  const received: FakeBackend['received'] = []
  const timers = new Set<NodeJS.Timeout>()
  const later = (ms: number, fn: () => void): void => { const timer = setTimeout(() => { timers.delete(timer); fn() }, ms); timers.add(timer) }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const path = req.url ?? ''
      received.push({ path, method: req.method ?? '', headers: req.headers, body })
      let message: { id?: unknown, method?: string, params?: { name?: string, arguments?: unknown } } = {}
      try { message = JSON.parse(body) } catch { /* GET, DELETE */ }
      const id = message.id ?? null
      const answer = (result: unknown): unknown => ({ jsonrpc: '2.0', id, result })
      const result = message.method === 'tools/list' ? { tools: TOOLS } : { content: [{ type: 'text', text: JSON.stringify(message.params?.arguments ?? null) }] }
      switch (path) {
        case '/json': json(res, 200, answer(result), { 'mcp-session-id': 'backend-session-1', 'mcp-protocol-version': '2025-06-18', 'set-cookie': 'backend=1' }); return
        case '/sse':
          res.writeHead(200, { 'content-type': 'text/event-stream' })
          res.write(': keep-alive comment\n\n')
          res.write(`event: message\nid: e1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })}\n\n`)
          res.end(`event: message\nid: e2\ndata: ${JSON.stringify(answer(result))}\n\n`)
          return
        case '/accepted': res.writeHead(202).end(); return
        case '/slow': later(2000, () => json(res, 200, answer(result))); return
        case '/slow-body': res.writeHead(200, { 'content-type': 'application/json' }); res.write('{"jsonrpc":'); later(2000, () => res.end('"2.0"}')); return
        case '/sse-stall':
          res.writeHead(200, { 'content-type': 'text/event-stream' })
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })}\n\n`)
          later(2000, () => res.end())
          return
        case '/sse-huge': res.writeHead(200, { 'content-type': 'text/event-stream' }); res.end(`data: ${'x'.repeat(5000)}\n\n`); return
        case '/sse-cut': res.writeHead(200, { 'content-type': 'text/event-stream' }); res.write('data: {"jsonrpc":"2.0",'); later(20, () => res.destroy()); return
        case '/garbage': res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc": "2.0", "id": '); return
        case '/oversized': json(res, 200, answer({ content: [{ type: 'text', text: 'y'.repeat(10_000) }] })); return
        case '/html': res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hello</h1>'); return
        case '/redirect': res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end(); return
        case '/unauthorized': res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(); return
        case '/failing': json(res, 500, { error: 'boom', stack: 'at secret/internal.js:1' }); return
        case '/busy': res.writeHead(503, { 'retry-after': '1' }).end(); return
        case '/gateway-timeout': res.writeHead(504).end(); return
        case '/no-session': json(res, 404, { jsonrpc: '2.0', id, error: { code: -32001, message: 'Session not found' } }); return
        case '/cut': res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' }); res.write('{"jsonrpc"'); later(20, () => res.destroy()); return
        default: res.writeHead(404).end()
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { for (const timer of timers) clearTimeout(timer); server.closeAllConnections(); server.close(() => resolve()) }))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}
