// Secrets read once at start: from Secrets Manager or an SSM SecureString on AWS (by ARN), or a
// random value generated once under <dataDir>/keys/ for local runs.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { KeyServiceError } from '../ports/cipher.ts'
import { createPrivateFile, ensurePrivateDir, readPrivateFile } from './private-files.ts'

/** Secrets Manager's GetSecretValue through the JSON client (src/aws/json-client.ts): no SDK client to load. */
export interface SecretsManagerApi {
  send<O>(operation: 'GetSecretValue', input: { SecretId: string }): Promise<O>
}

export interface SecretClients {
  /** Built for the ARN's region when absent. An SDK client, or (the Lambda) the JSON client. */
  secretsManager?: (region: string) => SecretsManagerClient | SecretsManagerApi
  ssm?: (region: string) => SSMClient
}

const ARN = /^arn:aws[a-z-]*:(secretsmanager|ssm):([a-z0-9-]+):\d{12}:(secret:.+|parameter\/.+)$/

/** Reads the secret named by a Secrets Manager secret ARN or an SSM SecureString parameter ARN. */
export async function resolveSecretArn (arn: string, clients: SecretClients = {}): Promise<string> {
  const match = ARN.exec(arn)
  if (match === null) throw new TypeError(`not a Secrets Manager secret or SSM parameter ARN: ${arn}`)
  const [, service, region] = match as unknown as [string, 'secretsmanager' | 'ssm', string]
  let value: string | undefined
  try {
    if (service === 'secretsmanager') {
      const given = clients.secretsManager?.(region)
      if (given !== undefined && !('middlewareStack' in given)) {
        value = (await given.send<{ SecretString?: string }>('GetSecretValue', { SecretId: arn })).SecretString
      } else {
        // Loaded on use: a cold start pays only for the SDK clients it needs.
        const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager')
        const client = given ?? new SecretsManagerClient({ region })
        const out = await client.send(new GetSecretValueCommand({ SecretId: arn }))
        value = out.SecretString
      }
    } else {
      const { GetParameterCommand, SSMClient } = await import('@aws-sdk/client-ssm')
      const client = clients.ssm?.(region) ?? new SSMClient({ region })
      // GetParameter accepts the full ARN as Name; WithDecryption turns a SecureString into its plaintext.
      const out = await client.send(new GetParameterCommand({ Name: arn, WithDecryption: true }))
      value = out.Parameter?.Value
    }
  } catch (err) {
    throw new KeyServiceError(`could not read secret ${arn}`, { cause: err })
  }
  if (value === undefined || value === '') throw new KeyServiceError(`secret ${arn} has no string value`)
  return value
}

/**
 * Reads `arn` when first asked: concurrent first uses share one read, a failure is not kept (the next use
 * reads again), a success is.
 */
export function readOnFirstUse (arn: string, clients: SecretClients = {}): () => Promise<string> {
  let value: Promise<string> | undefined
  return async () => {
    value ??= resolveSecretArn(arn, clients).catch((error: unknown) => { value = undefined; throw error })
    return await value
  }
}

/** A random 32-byte secret (base64url) kept in `<dataDir>/keys/<name>.secret` (0600), created on first use. */
export async function loadOrCreateLocalSecret (dataDir: string, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new TypeError(`bad local secret name: ${name}`)
  const dir = join(dataDir, 'keys')
  const path = join(dir, `${name}.secret`)
  await ensurePrivateDir(dir)
  let raw = await readPrivateFile(path)
  if (raw === undefined) {
    await createPrivateFile(path, randomBytes(32).toString('base64url') + '\n')
    raw = await readPrivateFile(path) // the first writer's value wins if two processes race
  }
  const value = raw?.toString('utf8').trim()
  if (value === undefined || value.length < 32) throw new Error(`${path}: expected a secret of at least 32 characters`)
  return value
}
