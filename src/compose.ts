// The composition root: builds the adapters (store, keys, cipher, upstream IdP) from the configuration
// once, and the context the rules work with. app.ts calls it and decorates the instance with the result;
// tests inject their own adapters through `given`.
import type { FastifyBaseLogger } from 'fastify'
import type { AwsCredentials } from './aws/sigv4.ts'
import type { Config } from './config.ts'
import { AccessTokenVerifier } from './oauth/access-tokens.ts'
import type { AuthorizationServerContext } from './oauth/context.ts'
import type { AuditLog } from './ports/audit.ts'
import type { Cipher } from './ports/cipher.ts'
import { SYSTEM_CLOCK, type Clock } from './ports/clock.ts'
import type { KeySet } from './ports/keys.ts'
import type { Store } from './ports/store.ts'
import type { UpstreamIdp } from './ports/upstream.ts'
import type { ClientMetadataDocumentFetcher } from './ports/client-metadata.ts'
import type { DatasetStore } from './ports/dataset.ts'
import type { StreamEventStore } from './ports/stream-events.ts'
import { CookieSecret } from './plugins/cookies.ts'

/** The adapters, as built from the configuration or injected by tests. */
export interface Services {
  store: Store & DatasetStore & StreamEventStore
  clock: Clock
  keys: KeySet
  cipher: Cipher
  upstream: UpstreamIdp
  /** The value, or how to read it on first use (by ARN). */
  cookieSecret: string | (() => Promise<string>)
  metadataDocuments?: ClientMetadataDocumentFetcher | undefined
  /** Reads the upstream client secret now if it is read on first use (the deploy smoke check). */
  readSecrets?: () => Promise<void>
  /** Released when the app closes (the embedded store, SDK clients). */
  close?: () => Promise<void>
}

/** What every route and plugin reads from `app.gatehouse`: one place for each thing. */
export interface Gatehouse {
  config: Config
  /** The adapters, the audit log and the settings the rules (src/oauth, src/mcp) work with. */
  ctx: AuthorizationServerContext
  /** The sample tools' dataset (the same table as the store). */
  dataset: DatasetStore
  /** The events of resumable /mcp response streams (the same table as the store). */
  streamEvents: StreamEventStore
  /** HMAC key of the browser routes' signed cookies; by ARN, read on the first browser request (src/plugins/cookies.ts). */
  cookieSecret: CookieSecret
  /** Reads the secrets that are otherwise read on first use (src/smoke-check.ts); the cookie secret is `cookieSecret.ready()`. */
  readSecrets (): Promise<void>
  /** Releases what the adapters hold open. */
  close (): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    gatehouse: Gatehouse
  }
}

function refuse (what: string): never {
  throw new Error(`${what} is not available in resource-server mode`)
}

/** Resource-server mode: nothing is signed, sealed or federated; any attempt is a programming error. */
const NO_SIGNING_KEYS: KeySet = {
  current: { kid: 'none', sign: async () => refuse('token signing') },
  publicKeys: async () => []
}
const NO_CIPHER: Cipher = { seal: async () => refuse('sealing'), open: async () => refuse('unsealing') }
const NO_UPSTREAM: UpstreamIdp = {
  authorizationUrl: async () => refuse('upstream login'),
  completeLogin: async () => refuse('upstream login'),
  refresh: async () => refuse('upstream refresh'),
  revoke: async () => refuse('upstream revocation')
}

/** Audit events: one structured line each, stable names, never a token or secret. */
function auditLog (log: FastifyBaseLogger): AuditLog {
  return { event: (name, fields) => log.info({ audit: name, ...fields }, name) }
}

async function buildServices (config: Config, given: Partial<Services>, log: FastifyBaseLogger, credentials: AwsCredentials | undefined): Promise<Services> {
  const clock = given.clock ?? SYSTEM_CLOCK
  const closers: Array<() => Promise<void>> = []
  const crypto = await import('./crypto/index.ts')
  // A pure resource server issues no tokens and holds no upstream tokens: it gets no keys at all.
  const resourceServer = config.mode === 'resource-server'
  const needSecrets = given.cookieSecret === undefined || given.upstream === undefined
  // Secrets named by ARN are read on first use by the routes that need them (a wrong ARN: 503 and an error
  // line there, and `make deploy`'s smoke check catches it first); literal and local ones are ready now.
  // Store, keys, cipher and secrets are independent, and on AWS each may wait on the network or load an SDK
  // client: started together, a cold start waits for the slowest, not the sum.
  const settled = await Promise.allSettled([
    given.store === undefined ? import('./store/index.ts').then(({ openStore }) => openStore({ ...config.store, dataDir: config.dataDir, inLambda: config.inLambda, clock, credentials })) : undefined,
    given.keys ?? (resourceServer ? NO_SIGNING_KEYS : crypto.createKeySet(config, clock, { credentials })),
    given.cipher ?? (resourceServer ? NO_CIPHER : crypto.createCipher(config, { credentials })),
    needSecrets ? crypto.secretsOnFirstUse(config, { credentials }) : undefined
  ] as const)
  const [openedResult, keysResult, cipherResult, secretsResult] = settled
  const failed = settled.find(result => result.status === 'rejected')
  if (failed !== undefined) {
    if (openedResult.status === 'fulfilled') await openedResult.value?.close()
    throw failed.reason
  }
  const opened = openedResult.status === 'fulfilled' ? openedResult.value : undefined
  if (opened !== undefined) {
    closers.push(opened.close)
    if (opened.endpoint !== undefined && config.store.embedded) log.info({ endpoint: opened.endpoint, dataDir: config.dataDir }, 'embedded DynamoDB-compatible store started')
  }
  const store = given.store ?? (opened?.store as Services['store'])
  const keys = (keysResult as PromiseFulfilledResult<KeySet>).value
  const cipher = (cipherResult as PromiseFulfilledResult<Cipher>).value
  const secrets = secretsResult.status === 'fulfilled' ? secretsResult.value : undefined
  const cookieSecret = given.cookieSecret ?? (secrets?.cookieSecret as Services['cookieSecret'])
  const upstreamClientSecret = secrets === undefined ? config.upstream.clientSecret : secrets.upstreamClientSecret
  let upstream = given.upstream
  if (upstream === undefined && resourceServer) upstream = NO_UPSTREAM
  if (upstream === undefined) {
    const { createUpstream } = await import('./upstream/create-upstream.ts')
    upstream = createUpstream(config.upstream, {
      redirectUri: `${config.publicUrl}/callback`,
      ...(upstreamClientSecret === undefined ? {} : { clientSecret: upstreamClientSecret }),
      log,
      now: () => clock.now()
    })
  }
  let metadataDocuments = given.metadataDocuments
  if (metadataDocuments === undefined && config.mode === 'authorization-server') {
    const { createMetadataDocumentFetcher } = await import('./upstream/client-metadata-documents.ts')
    metadataDocuments = createMetadataDocumentFetcher({ clock })
  }
  return {
    store,
    clock,
    keys,
    cipher,
    upstream,
    cookieSecret,
    metadataDocuments,
    readSecrets: async () => { if (typeof upstreamClientSecret === 'function') await upstreamClientSecret() },
    close: async () => {
      await given.close?.()
      for (const close of closers) await close()
    }
  }
}


/**
 * `awsCredentials`: the Lambda's role credentials (src/lambda.ts reads them from its environment); with them
 * DynamoDB, KMS and Secrets Manager are reached through the JSON client (src/aws/json-client.ts) instead of
 * the AWS SDK's clients, which a cold start would otherwise load (BENCHMARKS.md, session 9).
 */
export async function composeGatehouse (config: Config, given: Partial<Services>, log: FastifyBaseLogger, awsCredentials?: AwsCredentials): Promise<Gatehouse> {
  const services = await buildServices(config, given, log, awsCredentials)
  const accessTokens = new AccessTokenVerifier({ issuer: config.publicUrl, audience: config.resourceUrl, clock: services.clock, skewSeconds: config.ttl.clockSkew }, await services.keys.publicKeys())
  const ctx: AuthorizationServerContext = {
    store: services.store,
    clock: services.clock,
    keys: services.keys,
    cipher: services.cipher,
    upstream: services.upstream,
    audit: auditLog(log),
    accessTokens,
    issuer: config.publicUrl,
    resource: config.resourceUrl,
    resources: [config.resourceUrl, ...config.backends.map(backend => backend.resource)],
    scopes: config.scopes,
    defaultScopes: config.defaultScopes,
    redirectSchemes: config.redirectSchemes,
    introspectionClients: config.introspectionClients,
    ttl: config.ttl,
    metadataDocuments: services.metadataDocuments
  }
  return { config, ctx, dataset: services.store, streamEvents: services.store, cookieSecret: new CookieSecret(services.cookieSecret), readSecrets: async () => { await services.readSecrets?.() }, close: async () => { await services.close?.() } }
}
