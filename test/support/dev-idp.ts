// Starts the development IdP as a real child process (src/dev/main.ts on the same node binary) and waits
// for its ready line. Port 0 by default: the child binds a free port and reports its issuer.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

export const DEV_IDP_MAIN = fileURLToPath(new URL('../../src/dev/main.ts', import.meta.url))

export interface StartDevIdpProcessOptions {
  redirectUris: string[]
  clientId?: string
  /** Default `dev-idp-test-secret`. */
  clientSecret?: string
  /** Default 0: a free port chosen by the child. */
  port?: number
  /** Environment of the child; default a minimal one (PATH only), so the caller's env cannot change its config. */
  env?: Record<string, string | undefined>
  /** Default 15 s. */
  readyTimeoutMs?: number
}

export interface DevIdpProcess {
  issuer: string
  clientId: string
  clientSecret: string
  child: ChildProcess
  /** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. Safe to call twice. */
  stop (): Promise<void>
}

export async function startDevIdpProcess (options: StartDevIdpProcessOptions): Promise<DevIdpProcess> {
  const clientId = options.clientId ?? 'gatehouse-test'
  const clientSecret = options.clientSecret ?? 'dev-idp-test-secret'
  const args = [DEV_IDP_MAIN, '--port', String(options.port ?? 0), '--client-id', clientId, '--client-secret', clientSecret]
  for (const uri of options.redirectUris) args.push('--redirect-uri', uri)
  const child = spawn(process.execPath, args, {
    env: options.env ?? { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-8192) })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))

  const issuer = await new Promise<string>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 15_000
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`dev IdP not ready after ${timeoutMs} ms; stderr:\n${stderr}`))
    }, timeoutMs)
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', line => {
      const match = /^dev-idp ready (\S+)$/.exec(line)
      if (match?.[1] !== undefined) { clearTimeout(timer); lines.close(); resolve(match[1]) }
    })
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`dev IdP exited (code ${code}) before it was ready; stderr:\n${stderr}`))
    })
    child.once('error', err => { clearTimeout(timer); reject(err) })
  })
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout?.resume()

  return {
    issuer,
    clientId,
    clientSecret,
    child,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    }
  }
}
