// A real AWS emulator for tests: moto's server (Python package moto, `moto_server`), started on a free
// loopback port through scripts/moto-server.py (moto plus its KMS Sign-digest fix, in memory), or an
// already running LocalStack named by LOCALSTACK_ENDPOINT. The real SDK clients talk to it through an
// endpoint override, so what gatehouse sends is what KMS, Secrets Manager and SSM answer.
// Where neither is available, emulatorUnavailable() says why and the tests that need it skip.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { KMSClient } from '@aws-sdk/client-kms'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'

export const MOTO_LAUNCHER = fileURLToPath(new URL('../../scripts/moto-server.py', import.meta.url))
export const EMULATOR_REGION = 'us-east-1'
/** Any signed request is accepted; moto checks that requests are signed, not by whom. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

const PYTHON = process.env.PYTHON ?? 'python3'

export interface AwsEmulator {
  endpoint: string
  region: string
  /** 'moto' (started here, version) or 'localstack' (LOCALSTACK_ENDPOINT, shared: leave no state behind). */
  kind: 'moto' | 'localstack'
  version: string
  /** The environment an SDK-using child process needs to reach this emulator for every service. */
  env: Record<string, string>
  kms (): KMSClient
  secretsManager (): SecretsManagerClient
  ssm (): SSMClient
  /** Stops a moto this module started (its state goes with it); a no-op for LocalStack. Idempotent. */
  stop (): Promise<void>
}

let motoVersion: Promise<string | Error> | undefined

/** The installed moto's version, or why it cannot be used. */
function probeMoto (): Promise<string | Error> {
  motoVersion ??= promisify(execFile)(PYTHON, ['-c', 'import moto, moto.server, cryptography; print(moto.__version__)'], { timeout: 30_000 })
    .then(({ stdout }) => stdout.trim(), (err: Error) => err)
  return motoVersion
}

/** Undefined when an emulator can be had; otherwise the reason, for a skip message. */
export async function emulatorUnavailable (options: { moto?: boolean } = {}): Promise<string | undefined> {
  if (options.moto !== true && process.env.LOCALSTACK_ENDPOINT !== undefined && process.env.LOCALSTACK_ENDPOINT !== '') return undefined
  const probe = await probeMoto()
  return probe instanceof Error ? `no AWS emulator: ${PYTHON} cannot import moto (pip install 'moto[server]'), or set LOCALSTACK_ENDPOINT` : undefined
}

export interface StartEmulatorOptions {
  /** Start moto even when LOCALSTACK_ENDPOINT is set (tests about moto itself). */
  moto?: boolean
  /** moto without the KMS Sign-digest fix (the test proving the fix is still needed). */
  unpatched?: boolean
}

export async function startAwsEmulator (options: StartEmulatorOptions = {}): Promise<AwsEmulator> {
  const external = process.env.LOCALSTACK_ENDPOINT
  if (options.moto !== true && external !== undefined && external !== '') return emulatorAt(external.replace(/\/$/, ''), 'localstack', 'external', async () => {})
  const version = await probeMoto()
  if (version instanceof Error) throw version
  const args = [MOTO_LAUNCHER, ...(options.unpatched === true ? ['--unpatched'] : []), '-H', '127.0.0.1', '-p', '0']
  // A minimal environment: no AWS variables of the caller's reach the emulator.
  const child = spawn(PYTHON, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const endpoint = await readyUrl(child)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  return emulatorAt(endpoint, 'moto', version, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(killer)
  })
}

/** Werkzeug prints " * Running on http://127.0.0.1:<port>" once it listens (port 0 = a free one). */
async function readyUrl (child: ChildProcess): Promise<string> {
  let log = ''
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`moto not ready after 30 s:\n${log}`)) }, 30_000)
    const onLine = (line: string): void => {
      log = (log + line + '\n').slice(-4096)
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (match?.[1] !== undefined) { clearTimeout(timer); resolve(match[1]) }
    }
    createInterface({ input: child.stderr! }).on('line', onLine)
    createInterface({ input: child.stdout! }).on('line', onLine)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`moto exited (${code}) before it was ready:\n${log}`)) })
    child.once('error', err => { clearTimeout(timer); reject(err) })
  })
}

function emulatorAt (endpoint: string, kind: AwsEmulator['kind'], version: string, stop: () => Promise<void>): AwsEmulator {
  const common = { endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 }
  let stopped: Promise<void> | undefined
  return {
    endpoint,
    region: EMULATOR_REGION,
    kind,
    version,
    env: {
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      // gatehouse's own settings for the two services it builds clients for from its config…
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_KMS: endpoint,
      // …and the SDK's for the rest (Secrets Manager, SSM), read by the SDK itself.
      AWS_ENDPOINT_URL: endpoint
    },
    kms: () => new KMSClient(common),
    secretsManager: () => new SecretsManagerClient(common),
    ssm: () => new SSMClient(common),
    stop: () => { stopped ??= stop(); return stopped }
  }
}
