// Chooses the key implementations from the config: AWS KMS when key ids are configured, files under
// the data dir otherwise. app.ts/lambda.ts call these once at start.
import { randomBytes } from 'node:crypto'
import type { KMSClient } from '@aws-sdk/client-kms'
import { AwsJsonClient, KMS, SECRETS_MANAGER } from '../aws/json-client.ts'
import type { AwsCredentials } from '../aws/sigv4.ts'
import type { Config } from '../config.ts'
import type { Cipher } from '../ports/cipher.ts'
import type { Clock } from '../ports/clock.ts'
import type { KeySet } from '../ports/keys.ts'
import { LocalCipher } from './local-cipher.ts'
import { LocalKeySet } from './local-keys.ts'
import type { KmsApi, KmsClientSource } from './kms-keys.ts'
import { loadOrCreateLocalSecret, readOnFirstUse, resolveSecretArn, type SecretClients } from './secrets.ts'

// The KMS adapters (and the AWS SDK client behind them) are loaded only when KMS is configured: a cold
// start pays only for the clients it uses.
export { rsaPublicJwk, rsaThumbprint } from './jwk.ts'
export { LocalCipher } from './local-cipher.ts'
export { LocalKeySet, type LocalKeySetOptions } from './local-keys.ts'
export { loadOrCreateLocalSecret, resolveSecretArn, type SecretClients } from './secrets.ts'

export interface CryptoOptions {
  /** Injected in tests (endpoint + static credentials); built from the config otherwise. */
  kms?: KMSClient | KmsApi
  secrets?: SecretClients
  /**
   * The Lambda's role credentials (from its environment): KMS and Secrets Manager are then reached through
   * the JSON client (src/aws/json-client.ts), with no SDK client to load. Without them, the SDK clients.
   */
  credentials?: AwsCredentials | undefined
}

/** What the SDK's clients would do by default: 3 attempts; a bound on each, which the SDK leaves unset. */
const JSON_CLIENT_LIMITS = { maxAttempts: 3, attemptTimeoutMs: 5000 }

const sharedJsonKmsClients = new WeakMap<Config, AwsJsonClient>()

function kmsSource (config: Config, options: CryptoOptions): KmsClientSource {
  if (options.kms !== undefined) return options.kms
  const credentials = options.credentials
  if (credentials === undefined) return lazyKmsClient(config)
  let client = sharedJsonKmsClients.get(config)
  if (client === undefined) {
    client = new AwsJsonClient(KMS, { region: config.store.region, endpoint: config.keys.kmsEndpoint, credentials, ...JSON_CLIENT_LIMITS })
    sharedJsonKmsClients.set(config, client)
  }
  return client
}

function secretClients (config: Config, options: CryptoOptions): SecretClients | undefined {
  const credentials = options.credentials
  if (credentials === undefined || options.secrets?.secretsManager !== undefined) return options.secrets
  const clients = new Map<string, AwsJsonClient>()
  const secretsManager = (region: string): AwsJsonClient => {
    let client = clients.get(region)
    if (client === undefined) {
      client = new AwsJsonClient(SECRETS_MANAGER, { region, endpoint: config.keys.secretsManagerEndpoint, credentials, ...JSON_CLIENT_LIMITS })
      clients.set(region, client)
    }
    return client
  }
  return { ...options.secrets, secretsManager }
}

export interface ResolvedSecrets {
  /** Undefined when the upstream client is public (no secret configured). */
  upstreamClientSecret: string | undefined
  cookieSecret: string
}

export async function createKmsClient (config: Config): Promise<KMSClient> {
  const { KMSClient } = await import('@aws-sdk/client-kms')
  return new KMSClient({ region: config.store.region, ...(config.keys.kmsEndpoint === undefined ? {} : { endpoint: config.keys.kmsEndpoint }) })
}

const sharedKmsClients = new WeakMap<Config, Promise<KMSClient>>()

/** One KMS client per configuration, for the key set and the cipher alike, built when first used. */
export function lazyKmsClient (config: Config): () => Promise<KMSClient> {
  return async () => {
    let client = sharedKmsClients.get(config)
    if (client === undefined) {
      client = createKmsClient(config)
      sharedKmsClients.set(config, client)
    }
    return await client
  }
}

/**
 * How long a rotated-out signing key must stay published: until every token it signed has expired,
 * allowing for clock skew at the verifier.
 */
export function signingKeyRetentionSeconds (config: Config): number {
  return config.ttl.accessToken + config.ttl.clockSkew
}

export async function createKeySet (config: Config, clock: Clock, options: CryptoOptions = {}): Promise<KeySet> {
  if (config.keys.kmsSigningKeyId !== undefined) {
    const { KmsKeySet } = await import('./kms-keys.ts')
    return await KmsKeySet.open({
      client: kmsSource(config, options),
      currentKeyId: config.keys.kmsSigningKeyId,
      previousKeyIds: config.keys.kmsPreviousSigningKeyIds,
      ...(config.keys.kmsSigningPublicKeys === undefined ? {} : { delivered: config.keys.kmsSigningPublicKeys })
    })
  }
  // Lambda's file system is read-only and per instance: local keys there would differ per instance.
  if (config.inLambda) throw new Error('KMS_SIGNING_KEY_ID: required in Lambda (local keys are for development)')
  const keys = await LocalKeySet.open({ dataDir: config.dataDir, clock })
  await keys.retirePrevious(signingKeyRetentionSeconds(config))
  return keys
}

export async function createCipher (config: Config, options: CryptoOptions = {}): Promise<Cipher> {
  if (config.keys.kmsEncryptionKeyId !== undefined) {
    const { KmsCipher } = await import('./kms-cipher.ts')
    return new KmsCipher({ client: kmsSource(config, options), keyId: config.keys.kmsEncryptionKeyId })
  }
  if (config.inLambda) throw new Error('KMS_ENCRYPTION_KEY_ID: required in Lambda (local keys are for development)')
  return await LocalCipher.open(config.dataDir)
}

/** A secret's value, or how to read it on first use. */
export type SecretSource = string | (() => Promise<string>)

export interface SecretsOnFirstUse {
  upstreamClientSecret: string | undefined | (() => Promise<string>)
  cookieSecret: SecretSource
}

/**
 * Like resolveSecrets, but a secret named by an ARN is read on first use (the routes that need it), not at
 * start: a cold start serving /mcp loads no Secrets Manager or SSM client. Literal and local values as there.
 */
export async function secretsOnFirstUse (config: Config, options: CryptoOptions = {}): Promise<SecretsOnFirstUse> {
  const upstreamArn = config.upstream.clientSecretArn
  const clients = secretClients(config, options)
  return {
    upstreamClientSecret: upstreamArn === undefined ? config.upstream.clientSecret : readOnFirstUse(upstreamArn, clients),
    cookieSecret: config.cookieSecretArn === undefined ? await cookieSecretWithoutArn(config) : readOnFirstUse(config.cookieSecretArn, clients)
  }
}

/**
 * An ARN wins over a literal value: ARNs are how AWS deployments pass secrets. Without either, a local
 * run gets a generated cookie secret under the data dir; Lambda never writes one.
 */
export async function resolveSecrets (config: Config, options: CryptoOptions = {}): Promise<ResolvedSecrets> {
  const upstreamClientSecret = config.upstream.clientSecretArn !== undefined
    ? await resolveSecretArn(config.upstream.clientSecretArn, options.secrets)
    : config.upstream.clientSecret
  const cookieSecret = config.cookieSecretArn !== undefined ? await resolveSecretArn(config.cookieSecretArn, options.secrets) : await cookieSecretWithoutArn(config)
  if (cookieSecret.length < 32) throw new Error('the cookie secret must be at least 32 characters')
  return { upstreamClientSecret, cookieSecret }
}

async function cookieSecretWithoutArn (config: Config): Promise<string> {
  let cookieSecret: string
  if (config.cookieSecret !== undefined) cookieSecret = config.cookieSecret
  // A pure resource server sets no cookies; a throwaway value keeps the type honest without a secret to manage.
  else if (config.inLambda && config.mode === 'resource-server') cookieSecret = randomBytes(32).toString('base64url')
  else if (config.inLambda) throw new Error('COOKIE_SECRET_ARN: required in Lambda')
  else cookieSecret = await loadOrCreateLocalSecret(config.dataDir, 'cookie')
  if (cookieSecret.length < 32) throw new Error('the cookie secret must be at least 32 characters')
  return cookieSecret
}
