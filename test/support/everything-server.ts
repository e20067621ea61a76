// The official MCP reference server (@modelcontextprotocol/server-everything) as a real child process on a
// loopback port: Streamable HTTP at /mcp, stateful sessions. Its listen(PORT) would bind every interface,
// so it runs with a preload that makes a host-less listen bind 127.0.0.1.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { freePort } from './net.ts'

const ENTRY = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url))
const PRELOAD = fileURLToPath(new URL('./loopback-listen.mjs', import.meta.url))

export interface EverythingServer {
  /** http://127.0.0.1:<port>/mcp */
  url: string
  port: number
  stop: () => Promise<void>
}

export async function startEverythingServer (t: Test): Promise<EverythingServer> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', PRELOAD, ENTRY, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server-everything did not start: ${stderr}`)), 20_000)
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('listening on port')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`server-everything exited (${String(code)}): ${stderr}`)) })
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  t.teardown(stop)
  return { url: `http://127.0.0.1:${port}/mcp`, port, stop }
}
