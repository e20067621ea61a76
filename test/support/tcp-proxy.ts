// A loopback TCP proxy for fault injection: put it between a client (the DynamoDB SDK, an HTTP client)
// and a server (the embedded emulator, the dev IdP) and switch it while requests are in flight.
//   pass  — forward bytes both ways (the default)
//   drop  — reset every open connection and every new one (the server is unreachable)
//   hang  — accept connections but forward nothing, in either direction (the server is black-holed)
//   slow  — forward, but hold every chunk `delayMs` first (a slow server)
import { connect, createServer, type Server, type Socket } from 'node:net'

export type ProxyMode = 'pass' | 'drop' | 'hang' | 'slow'

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  url: string
  port: number
  readonly mode: ProxyMode
  /** Switches mode; `drop` also resets the connections already open. */
  setMode (mode: ProxyMode, options?: { delayMs?: number }): void
  /** Connections accepted so far. */
  readonly connections: number
  close (): Promise<void>
}

interface Pair { client: Socket, upstream: Socket | undefined }

export async function startTcpProxy (target: { host?: string, port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1'
  let mode: ProxyMode = 'pass'
  let delayMs = 0
  let accepted = 0
  const pairs = new Set<Pair>()

  const forward = (from: Socket, to: () => Socket | undefined): void => {
    from.on('data', chunk => {
      if (mode === 'hang') return // swallowed: the peer waits for an answer that never comes
      const send = (): void => { const dest = to(); if (dest !== undefined && !dest.destroyed) dest.write(chunk) }
      if (mode === 'slow') setTimeout(send, delayMs)
      else send()
    })
  }

  const server: Server = createServer(client => {
    accepted++
    client.on('error', () => {})
    if (mode === 'drop') { client.resetAndDestroy(); return }
    const pair: Pair = { client, upstream: undefined }
    pairs.add(pair)
    const upstream = connect(target.port, host)
    pair.upstream = upstream
    upstream.on('error', () => client.destroy())
    client.on('close', () => { upstream.destroy(); pairs.delete(pair) })
    upstream.on('close', () => { client.destroy(); pairs.delete(pair) })
    forward(client, () => upstream)
    forward(upstream, () => client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get mode () { return mode },
    get connections () { return accepted },
    setMode (next, options = {}) {
      mode = next
      delayMs = options.delayMs ?? 0
      if (next === 'drop') {
        for (const pair of pairs) { pair.client.resetAndDestroy(); pair.upstream?.destroy() }
        pairs.clear()
      }
    },
    async close () {
      for (const pair of pairs) { pair.client.destroy(); pair.upstream?.destroy() }
      pairs.clear()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
