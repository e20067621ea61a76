import { createServer } from 'node:net'

/**
 * Ports handed out below Linux's ephemeral range (32768–60999): a port from `listen(0)` or an outgoing
 * connection never lands here, so the one handed out is not taken by another test's `listen(0)` between this
 * check and its server starting (tests run in parallel; that race cost a CI run). Random, so two test
 * processes asking at once rarely pick the same one.
 */
const RANGE = { from: 20000, to: 32767 }

async function bindable (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function kernelPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

/** A port that was free on 127.0.0.1 a moment ago (for servers whose URL must be known before they start). */
export async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = RANGE.from + Math.floor(Math.random() * (RANGE.to - RANGE.from + 1))
    if (await bindable(port)) return port
  }
  return await kernelPort()
}
