// Starts cognito-local (a Cognito emulator) on a free loopback port with its own temporary data directory,
// for tests of admin tooling such as scripts/bootstrap-users.ts. cognito-local reads PORT and HOST and
// keeps its config and data under ./.cognito of its working directory. It has no domains or hosted UI.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'

const MAIN = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js')

export interface CognitoLocalAdmin {
  endpoint: string
  client: CognitoIdentityProviderClient
  /** Environment for a child process whose SDK clients should talk to this emulator. */
  env: Record<string, string>
  stop (): Promise<void>
}

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

export async function startCognitoLocalAdmin (readyTimeoutMs = 20_000): Promise<CognitoLocalAdmin> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-cognito-local-'))
  const endpoint = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [MAIN], { cwd: dataDir, env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8192) }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (child.exitCode !== null) { await stop(); throw new Error(`cognito-local exited with ${child.exitCode}:\n${output}`) }
    if (await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) }).then(r => r.ok, () => false)) break
    if (Date.now() > deadline) { await stop(); throw new Error(`cognito-local not ready after ${readyTimeoutMs} ms:\n${output}`) }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
  const client = new CognitoIdentityProviderClient({ endpoint, region: 'local', credentials })
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'local',
    AWS_EC2_METADATA_DISABLED: 'true'
  }
  return { endpoint, client, env, stop: async () => { client.destroy(); await stop() } }
}
