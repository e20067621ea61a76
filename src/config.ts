// The only reader of process.env. One TypeBox schema parses the environment at start and fails fast
// with a message that names the variable and what is wrong with it.
import * as Type from 'typebox'
import type { Static } from 'typebox'
import { Value } from 'typebox/value'
import { isLoopbackHttpUrl } from './loopback.ts'

const Seconds = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description })

const CommaList = (description: string, def: string) => Type.String({ default: def, description })

export const EnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'interface to listen on (local runs)' }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, description: 'port to listen on (local runs)' }),
  LOG_LEVEL: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info', description: 'pino log level' }),
  GATEHOUSE_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+$', description: 'public base URL, scheme and host only (default http://HOST:PORT)' })),
  GATEHOUSE_MODE: Type.Union([Type.Literal('authorization-server'), Type.Literal('resource-server')], { default: 'authorization-server', description: 'authorization-server: gatehouse issues tokens; resource-server: it issues nothing and /mcp accepts only tokens from TRUSTED_ISSUERS' }),
  GATEHOUSE_DATA_DIR: Type.String({ default: '.data', minLength: 1, description: 'where local runs keep the embedded store and local keys' }),

  GATEHOUSE_TABLE: Type.String({ default: 'gatehouse', pattern: '^[A-Za-z0-9_.-]{3,255}$', description: 'DynamoDB table name' }),
  AWS_REGION: Type.String({ default: 'us-east-1', minLength: 1, description: 'region of the DynamoDB table and the KMS keys (the Lambda runtime sets it; secrets are read in their ARN\'s region)' }),
  GATEHOUSE_STORE: Type.Optional(Type.Union([Type.Literal('embedded'), Type.Literal('dynamodb')], { description: 'where records live: embedded (a DynamoDB-compatible store in GATEHOUSE_DATA_DIR, local runs only) or dynamodb (GATEHOUSE_TABLE at the DynamoDB endpoint). Unset = dynamodb on Lambda or when a DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL) is set, embedded otherwise; embedded with AWS_ENDPOINT_URL_DYNAMODB set is an error' })),
  AWS_ENDPOINT_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'endpoint for every AWS service (LocalStack, moto), as the AWS SDK reads it; the endpoint of one service (such as AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL_KMS) wins for that service' })),
  AWS_ENDPOINT_URL_DYNAMODB: Type.Optional(Type.String({ pattern: '^https?://', description: 'DynamoDB endpoint (DynamoDB Local, LocalStack, moto); see GATEHOUSE_STORE' })),
  STORE_TIMEOUT_MS: Type.Integer({ default: 3000, minimum: 50, maximum: 30000, description: 'per store call; past it the request fails with 503' }),

  UPSTREAM_ISSUER: Type.Optional(Type.String({ pattern: '^https?://', description: 'OIDC issuer of the enterprise IdP (Cognito user pool issuer); unset locally = the development IdP' })),
  UPSTREAM_CLIENT_ID: Type.String({ default: 'gatehouse-local', minLength: 1, description: 'gatehouse\'s app client id at the upstream IdP (the default is the development IdP\'s client)' }),
  UPSTREAM_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1, description: 'upstream app client secret (local runs; on AWS use UPSTREAM_CLIENT_SECRET_ARN)' })),
  UPSTREAM_CLIENT_SECRET_ARN: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:(secretsmanager|ssm):', description: 'Secrets Manager secret or SSM SecureString parameter holding the upstream client secret' })),
  UPSTREAM_SCOPES: Type.String({ default: 'openid email profile', minLength: 1, description: 'scopes gatehouse asks the upstream IdP for when the user logs in' }),
  UPSTREAM_AUTHORIZATION_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://', description: 'overrides the discovered upstream authorization endpoint (with the token endpoint and JWKS URI also set, discovery is skipped)' })),
  UPSTREAM_TOKEN_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://', description: 'overrides the discovered upstream token endpoint' })),
  UPSTREAM_JWKS_URI: Type.Optional(Type.String({ pattern: '^https?://', description: 'overrides the discovered upstream JWKS URI' })),
  UPSTREAM_REVOCATION_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://', description: 'overrides the discovered upstream revocation endpoint' })),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 30000, description: 'timeout of each call to the upstream IdP, and of JWKS fetches from TRUSTED_ISSUERS, milliseconds' }),
  DEV_IDP_PORT: Type.Integer({ default: 3001, minimum: 1, maximum: 65535, description: 'port of the development IdP that `npm start` runs' }),

  ACCESS_TOKEN_TTL: Seconds(3600, 60, 3600, 'access token lifetime, seconds (≤ 1 h)'),
  AUTHORIZATION_CODE_TTL: Seconds(60, 10, 600, 'authorization code lifetime, seconds'),
  TRANSACTION_TTL: Seconds(600, 60, 600, 'pending authorization (consent + login) lifetime, seconds (≤ 10 min)'),
  REFRESH_TOKEN_TTL: Seconds(1209600, 300, 31536000, 'refresh token sliding lifetime, seconds (default 14 days)'),
  GRANT_MAX_TTL: Seconds(7776000, 3600, 31536000, 'absolute cap on a grant and its refresh tokens, seconds (default 90 days)'),
  CONSENT_TTL: Seconds(2592000, 0, 31536000, 'remembered consent lifetime, seconds (0 = never remember)'),
  GRANT_CACHE_TTL: Seconds(30, 0, 300, 'how long /mcp caches a grant check, seconds (0 = check every request)'),
  CLIENT_UNUSED_DAYS: Type.Integer({ default: 90, minimum: 0, maximum: 3650, description: 'a dynamically registered client expires this many days (plus up to a tenth, so its expiry is not rewritten at every grant) after its registration or its last grant, whichever is later, and never while one of its grants lives; DynamoDB\'s TTL removes it and `gatehouse admin prune` at once (0 = never expire)' }),
  CLOCK_SKEW: Seconds(30, 0, 300, 'tolerated clock skew, seconds: a token is still accepted up to this long past its exp (a 3600 s token for 3630 s by default), and this long before its nbf/iat'),

  SCOPES: CommaList('scopes gatehouse issues', 'mcp:read,mcp:write'),
  DEFAULT_SCOPES: CommaList('scopes granted when a client asks for none', 'mcp:read,mcp:write'),
  REDIRECT_SCHEMES: CommaList('private-use redirect URI schemes allowed for native clients', 'cursor,vscode,vscode-insiders'),
  ALLOWED_ORIGINS: CommaList('further browser origins (e.g. https://app.example.com) allowed on /mcp and the cross-origin OAuth endpoints, besides the public URL\'s own origin and loopback origins, which are always allowed; "*" allows any origin and turns off the DNS-rebinding defence (unsafe)', ''),

  KMS_SIGNING_KEY_ID: Type.Optional(Type.String({ minLength: 1, description: 'KMS asymmetric key (RSA_2048, SIGN_VERIFY) that signs access tokens; unset = local key' })),
  KMS_PREVIOUS_SIGNING_KEY_IDS: CommaList('previous KMS signing keys kept in /jwks.json during rotation', ''),
  KMS_SIGNING_PUBLIC_KEYS: Type.Optional(Type.String({ minLength: 2, description: 'JSON map from each KMS signing key id above (current and previous, as configured) to its public key, base64 DER (what Terraform\'s aws_kms_public_key gives as public_key); set, no KMS call and no KMS client at start, and KMS\'s first signature is checked against it; unset = GetPublicKey at start' })),
  KMS_ENCRYPTION_KEY_ID: Type.Optional(Type.String({ minLength: 1, description: 'KMS symmetric key for envelope encryption of upstream tokens; unset = local key' })),
  AWS_ENDPOINT_URL_KMS: Type.Optional(Type.String({ pattern: '^https?://', description: 'KMS endpoint (LocalStack, tests); unset = AWS_ENDPOINT_URL, else the region\'s KMS' })),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: Type.Optional(Type.String({ pattern: '^https?://', description: 'Secrets Manager endpoint (LocalStack, tests), as the AWS SDK reads it; unset = AWS_ENDPOINT_URL, else the ARN\'s region\'s Secrets Manager' })),
  COOKIE_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HMAC key for consent cookies (≥ 32 chars); unset locally = generated under the data dir' })),
  COOKIE_SECRET_ARN: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:(secretsmanager|ssm):', description: 'Secrets Manager secret or SSM SecureString parameter holding the consent cookie HMAC key (required in Lambda in authorization-server mode unless COOKIE_SECRET is set)' })),

  INTROSPECTION_CLIENT_IDS: CommaList('confidential clients (typically resource servers) that may introspect any token; other confidential clients only their own', ''),

  TRUSTED_ISSUERS: CommaList('resource-server mode: external issuers whose tokens /mcp accepts', ''),
  TRUSTED_AUDIENCES: CommaList('resource-server mode: accepted aud or client_id values (empty = the /mcp URL)', ''),

  DOWNSTREAM_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'API that call_downstream calls with the user\'s upstream token' })),

  JIRA_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$', description: 'Jira Cloud site (e.g. https://example.atlassian.net); set with JIRA_EMAIL and a token to offer the jira_* tools. https unless loopback' })),
  JIRA_EMAIL: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'Atlassian account email of the service user whose API token the jira_* tools use' })),
  JIRA_API_TOKEN: Type.Optional(Type.String({ minLength: 1, description: 'Jira API token (local runs; on AWS use JIRA_API_TOKEN_ARN)' })),
  JIRA_API_TOKEN_ARN: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:(secretsmanager|ssm):', description: 'Secrets Manager secret or SSM SecureString parameter holding the Jira API token (read on the first jira_* call)' })),
  JENKINS_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$', description: 'Jenkins root URL; set with JENKINS_USER and a token to offer the jenkins_* tools. https unless loopback' })),
  JENKINS_USER: Type.Optional(Type.String({ minLength: 1, description: 'Jenkins user whose API token the jenkins_* tools use' })),
  JENKINS_API_TOKEN: Type.Optional(Type.String({ minLength: 1, description: 'Jenkins API token (local runs; on AWS use JENKINS_API_TOKEN_ARN)' })),
  JENKINS_API_TOKEN_ARN: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:(secretsmanager|ssm):', description: 'Secrets Manager secret or SSM SecureString parameter holding the Jenkins API token (read on the first jenkins_* call)' })),
  CONNECTOR_WRITE_GROUPS: CommaList('groups whose members may use the connectors\' write tools (jira_create_issue, jira_add_comment, jenkins_trigger_build), with the mcp:write scope', 'admins'),
  CONNECTOR_ACCESS: Type.Optional(Type.String({ minLength: 2, description: 'JSON map from group ("*" = every user) to what it may see and touch, e.g. {"engineering":{"jira":["ENG"],"jenkins":["eng"]},"admins":{"jira":["*"],"jenkins":["*"]}}; jira lists project keys, jenkins lists folders; unset = no limit beyond the service account\'s own' })),
  CONNECTOR_TIMEOUT_MS: Type.Integer({ default: 15000, minimum: 500, maximum: 28000, description: 'time limit of one connector tool call, milliseconds, including one wait for Retry-After on 429' }),
  GATEHOUSE_BACKENDS: Type.Optional(Type.String({ minLength: 2, description: 'MCP servers behind the gateway, as JSON {"<name>": {"url": …, …}}; each is the protected resource <public URL>/mcp/<name> (format in docs/gateway.md; authorization-server mode only)' })),

  AWS_LAMBDA_FUNCTION_NAME: Type.Optional(Type.String({ description: 'set by the Lambda runtime, not by hand: its presence applies the Lambda rules (GATEHOUSE_PUBLIC_URL required, and in authorization-server mode UPSTREAM_ISSUER, the KMS keys and a cookie secret; the development IdP, embedded store and local keys are never used)' }))
})

export type Env = Static<typeof EnvSchema>

export interface Config {
  host: string
  port: number
  logLevel: Env['LOG_LEVEL']
  publicUrl: string
  /** The MCP resource URL, also the audience of every access token. */
  resourceUrl: string
  mode: Env['GATEHOUSE_MODE']
  dataDir: string
  inLambda: boolean
  store: { table: string, region: string, endpoint: string | undefined, timeoutMs: number, embedded: boolean }
  upstream: {
    issuer: string
    devIdp: boolean
    clientId: string
    clientSecret: string | undefined
    clientSecretArn: string | undefined
    scopes: string
    authorizationEndpoint: string | undefined
    tokenEndpoint: string | undefined
    jwksUri: string | undefined
    revocationEndpoint: string | undefined
    timeoutMs: number
  }
  devIdpPort: number
  ttl: { accessToken: number, code: number, transaction: number, refreshToken: number, grantMax: number, consent: number, grantCache: number, clockSkew: number, clientUnused: number }
  scopes: string[]
  defaultScopes: string[]
  redirectSchemes: string[]
  allowedOrigins: string[]
  keys: { kmsSigningKeyId: string | undefined, kmsPreviousSigningKeyIds: string[], kmsSigningPublicKeys: ReadonlyMap<string, Uint8Array> | undefined, kmsEncryptionKeyId: string | undefined, kmsEndpoint: string | undefined, secretsManagerEndpoint: string | undefined }
  cookieSecret: string | undefined
  cookieSecretArn: string | undefined
  introspectionClients: string[]
  trustedIssuers: string[]
  trustedAudiences: string[]
  downstreamUrl: string | undefined
  connectors: ConnectorsConfig
  /** GATEHOUSE_BACKENDS: the MCP servers behind the gateway, each its own protected resource. */
  backends: BackendConfig[]
}

/** Who may use a backend's tool: every scope listed, and (when non-empty) membership in any group listed. */
export interface BackendToolRule { scopes: string[], groups: string[] | undefined }

export type BackendAuth = { type: 'jwt' } | { type: 'secret', secretArn: string, header: string }

/** One MCP server behind the gateway, protected as `<public URL>/mcp/<name>`. */
export interface BackendConfig {
  name: string
  /** The backend's MCP endpoint; the `aud` of the JWTs gatehouse sends it. */
  url: string
  /** The RFC 8707 resource and the audience of the clients' tokens: `<public URL>/mcp/<name>`, or `url` when direct. */
  resource: string
  /** A server deployed on its own that clients reach directly and that checks gatehouse's tokens itself (the
   * resource-server kit): gatehouse only issues tokens for it, with no /mcp/<name> route and no metadata. */
  direct: boolean
  title: string
  /** Scopes a token needs for any call. */
  scopes: string[]
  /** Members of any of these groups may use the backend; undefined = everyone. */
  groups: string[] | undefined
  /** Tool name, `prefix*` or `*` → rule. */
  tools: Record<string, BackendToolRule>
  timeoutMs: number
  maxResponseBytes: number
  auth: BackendAuth
}

/** A service account of one connector: where, who, and its token (a literal locally, an ARN on AWS). */
export interface ConnectorAccount {
  baseUrl: string
  user: string
  apiToken: string | undefined
  apiTokenArn: string | undefined
}

/** What a group may see and touch: JIRA project keys and Jenkins folders ("*" = all). */
export interface ConnectorAccessEntry { jira?: string[], jenkins?: string[] }

export interface ConnectorsConfig {
  /** Undefined = the jira_* tools are not offered. */
  jira: ConnectorAccount | undefined
  jenkins: ConnectorAccount | undefined
  writeGroups: string[]
  /** Undefined = no limit beyond the service account's own. */
  access: Record<string, ConnectorAccessEntry> | undefined
  timeoutMs: number
}

export class ConfigError extends Error {
  constructor (message: string) { super(message); this.name = 'ConfigError' }
}

const list = (value: string): string[] => value.split(',').map(s => s.trim()).filter(Boolean)

/** Parses an environment (process.env by default). Throws ConfigError naming every bad variable. */
export function loadConfig (source: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(EnvSchema.properties)
  const raw: Record<string, unknown> = {}
  for (const key of known) {
    const value = source[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw))
  // Check first: on a valid environment (every start) it is a third of what collecting the errors costs.
  const errors = Value.Check(EnvSchema, converted) ? [] : [...Value.Errors(EnvSchema, converted)]
  if (errors.length > 0) {
    const lines = errors.map(e => {
      const name = e.instancePath.replace(/^\//, '') || (e.params as { requiredProperties?: string[] }).requiredProperties?.join(', ') || '(environment)'
      const value = source[name]
      return `${name}: ${e.message}${value === undefined ? '' : ` (got ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)})`}`
    })
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const env = converted as Env
  return fromEnv(env)
}

/** KMS_SIGNING_PUBLIC_KEYS: one public key (base64 DER) for each configured signing key id, nothing else. */
function signingPublicKeysFrom (env: Env, problems: string[]): ReadonlyMap<string, Uint8Array> | undefined {
  if (env.KMS_SIGNING_PUBLIC_KEYS === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(env.KMS_SIGNING_PUBLIC_KEYS)
  } catch {
    problems.push('KMS_SIGNING_PUBLIC_KEYS: not JSON')
    return undefined
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push('KMS_SIGNING_PUBLIC_KEYS: expected a JSON object from key id to base64 DER public key')
    return undefined
  }
  const ids = env.KMS_SIGNING_KEY_ID === undefined ? [] : [env.KMS_SIGNING_KEY_ID, ...list(env.KMS_PREVIOUS_SIGNING_KEY_IDS)]
  if (ids.length === 0) problems.push('KMS_SIGNING_PUBLIC_KEYS: set without KMS_SIGNING_KEY_ID')
  const keys = new Map<string, Uint8Array>()
  for (const [id, value] of Object.entries(parsed)) {
    if (!ids.includes(id)) problems.push(`KMS_SIGNING_PUBLIC_KEYS: "${id}" is not a configured signing key id`)
    else if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) problems.push(`KMS_SIGNING_PUBLIC_KEYS: the key of "${id}" is not base64`)
    else keys.set(id, Buffer.from(value, 'base64'))
  }
  for (const id of ids) if (!(id in parsed)) problems.push(`KMS_SIGNING_PUBLIC_KEYS: no public key for "${id}"`)
  return keys
}

function fromEnv (env: Env): Config {
  const inLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined
  const problems: string[] = []
  const publicUrl = env.GATEHOUSE_PUBLIC_URL ?? `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`
  const devIdp = env.UPSTREAM_ISSUER === undefined
  const scopes = list(env.SCOPES)
  const defaultScopes = list(env.DEFAULT_SCOPES)

  if (inLambda) {
    if (env.GATEHOUSE_PUBLIC_URL === undefined) problems.push('GATEHOUSE_PUBLIC_URL: required in Lambda')
    if (env.GATEHOUSE_MODE === 'authorization-server' && devIdp) problems.push('UPSTREAM_ISSUER: required in Lambda (the development IdP never runs there)')
    if (env.GATEHOUSE_MODE === 'authorization-server') {
      if (env.KMS_SIGNING_KEY_ID === undefined) problems.push('KMS_SIGNING_KEY_ID: required in Lambda (local keys are for development)')
      if (env.KMS_ENCRYPTION_KEY_ID === undefined) problems.push('KMS_ENCRYPTION_KEY_ID: required in Lambda (local keys are for development)')
      if (env.COOKIE_SECRET === undefined && env.COOKIE_SECRET_ARN === undefined) problems.push('COOKIE_SECRET_ARN: required in Lambda')
    }
  }
  if (env.GATEHOUSE_PUBLIC_URL?.startsWith('http://') && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(env.GATEHOUSE_PUBLIC_URL)) {
    problems.push('GATEHOUSE_PUBLIC_URL: must be https unless it is a loopback address')
  }
  for (const s of defaultScopes) if (!scopes.includes(s)) problems.push(`DEFAULT_SCOPES: "${s}" is not in SCOPES`)
  for (const s of scopes) if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)) problems.push(`SCOPES: "${s}" is not a valid scope token`)
  for (const s of list(env.REDIRECT_SCHEMES)) {
    if (!/^[a-z][a-z0-9+.-]*$/.test(s) || ['http', 'https', 'javascript', 'data', 'file', 'vbscript', 'blob', 'about'].includes(s)) problems.push(`REDIRECT_SCHEMES: "${s}" cannot be a private-use scheme`)
  }
  if (env.GATEHOUSE_MODE === 'resource-server' && list(env.TRUSTED_ISSUERS).length === 0) problems.push('TRUSTED_ISSUERS: required in resource-server mode')
  for (const iss of list(env.TRUSTED_ISSUERS)) if (!/^https?:\/\//.test(iss)) problems.push(`TRUSTED_ISSUERS: "${iss}" is not an http(s) URL`)
  if (env.REFRESH_TOKEN_TTL > env.GRANT_MAX_TTL) problems.push('REFRESH_TOKEN_TTL: must not exceed GRANT_MAX_TTL')
  // The store is chosen, never guessed: an endpoint meant for DynamoDB must not be ignored for an embedded store.
  const storeEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL
  const storeKind = env.GATEHOUSE_STORE ?? (inLambda || storeEndpoint !== undefined ? 'dynamodb' : 'embedded')
  if (storeKind === 'embedded' && inLambda) problems.push('GATEHOUSE_STORE: embedded is for local runs; on Lambda the store is DynamoDB')
  if (storeKind === 'embedded' && env.AWS_ENDPOINT_URL_DYNAMODB !== undefined) problems.push('GATEHOUSE_STORE: embedded contradicts AWS_ENDPOINT_URL_DYNAMODB (unset one of them)')
  const connectors = connectorsFrom(env, problems)
  const backends = backendsFrom(env, publicUrl, scopes, problems)
  const kmsSigningPublicKeys = signingPublicKeysFrom(env, problems)
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)

  return {
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    publicUrl,
    resourceUrl: `${publicUrl}/mcp`,
    mode: env.GATEHOUSE_MODE,
    dataDir: env.GATEHOUSE_DATA_DIR,
    inLambda,
    store: { table: env.GATEHOUSE_TABLE, region: env.AWS_REGION, endpoint: storeKind === 'dynamodb' ? storeEndpoint : undefined, timeoutMs: env.STORE_TIMEOUT_MS, embedded: storeKind === 'embedded' },
    upstream: {
      issuer: env.UPSTREAM_ISSUER ?? `http://127.0.0.1:${env.DEV_IDP_PORT}`,
      devIdp,
      clientId: env.UPSTREAM_CLIENT_ID,
      clientSecret: env.UPSTREAM_CLIENT_SECRET ?? (devIdp ? 'gatehouse-local-secret' : undefined),
      clientSecretArn: env.UPSTREAM_CLIENT_SECRET_ARN,
      scopes: env.UPSTREAM_SCOPES,
      authorizationEndpoint: env.UPSTREAM_AUTHORIZATION_ENDPOINT,
      tokenEndpoint: env.UPSTREAM_TOKEN_ENDPOINT,
      jwksUri: env.UPSTREAM_JWKS_URI,
      revocationEndpoint: env.UPSTREAM_REVOCATION_ENDPOINT,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS
    },
    devIdpPort: env.DEV_IDP_PORT,
    ttl: {
      accessToken: env.ACCESS_TOKEN_TTL,
      code: env.AUTHORIZATION_CODE_TTL,
      transaction: env.TRANSACTION_TTL,
      refreshToken: env.REFRESH_TOKEN_TTL,
      grantMax: env.GRANT_MAX_TTL,
      consent: env.CONSENT_TTL,
      grantCache: env.GRANT_CACHE_TTL,
      clockSkew: env.CLOCK_SKEW,
      clientUnused: env.CLIENT_UNUSED_DAYS * 86400
    },
    scopes,
    defaultScopes,
    redirectSchemes: list(env.REDIRECT_SCHEMES),
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    keys: {
      kmsSigningKeyId: env.KMS_SIGNING_KEY_ID,
      kmsPreviousSigningKeyIds: list(env.KMS_PREVIOUS_SIGNING_KEY_IDS),
      kmsSigningPublicKeys,
      kmsEncryptionKeyId: env.KMS_ENCRYPTION_KEY_ID,
      kmsEndpoint: env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL,
      secretsManagerEndpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL
    },
    cookieSecret: env.COOKIE_SECRET,
    cookieSecretArn: env.COOKIE_SECRET_ARN,
    introspectionClients: list(env.INTROSPECTION_CLIENT_IDS),
    trustedIssuers: list(env.TRUSTED_ISSUERS),
    trustedAudiences: list(env.TRUSTED_AUDIENCES),
    downstreamUrl: env.DOWNSTREAM_URL,
    connectors,
    backends
  }
}

/**
 * One connector's account, all or nothing: a half-configured connector is a mistake worth failing on, not
 * a silently missing tool. Its token travels in every request, so the URL must be https (or loopback).
 */
function connectorAccount (name: string, url: string | undefined, user: string | undefined, token: string | undefined, tokenArn: string | undefined, problems: string[]): ConnectorAccount | undefined {
  const [urlVar, userVar] = name === 'JIRA' ? ['JIRA_BASE_URL', 'JIRA_EMAIL'] : ['JENKINS_URL', 'JENKINS_USER']
  if (url === undefined) {
    if (user !== undefined || token !== undefined || tokenArn !== undefined) problems.push(`${urlVar}: required when ${userVar} or ${name}_API_TOKEN(_ARN) is set`)
    return undefined
  }
  if (user === undefined) problems.push(`${userVar}: required with ${urlVar}`)
  if (token === undefined && tokenArn === undefined) problems.push(`${name}_API_TOKEN_ARN: required with ${urlVar} (or ${name}_API_TOKEN locally)`)
  if (url.startsWith('http://') && !isLoopbackHttpUrl(url)) problems.push(`${urlVar}: must be https unless it is a loopback address (the API token is sent with every request)`)
  return { baseUrl: url.replace(/\/+$/, ''), user: user ?? '', apiToken: token, apiTokenArn: tokenArn }
}

const NAME_LIST = Type.Array(Type.String({ pattern: '^(\\*|[A-Za-z0-9][A-Za-z0-9_. /-]{0,199})$' }), { maxItems: 200 })
const ACCESS_SCHEMA = Type.Record(Type.String({ pattern: '^(\\*|[A-Za-z0-9_.-]{1,64})$' }), Type.Object({ jira: Type.Optional(NAME_LIST), jenkins: Type.Optional(NAME_LIST) }, { additionalProperties: false }))

function connectorsFrom (env: Env, problems: string[]): ConnectorsConfig {
  let access: ConnectorsConfig['access']
  if (env.CONNECTOR_ACCESS !== undefined) {
    let parsed: unknown
    try { parsed = JSON.parse(env.CONNECTOR_ACCESS) } catch { parsed = undefined }
    if (parsed !== undefined && Value.Check(ACCESS_SCHEMA, parsed)) access = parsed
    else problems.push('CONNECTOR_ACCESS: must be a JSON object {"<group>|*": {"jira"?: [project keys], "jenkins"?: [folders]}}')
  }
  return {
    jira: connectorAccount('JIRA', env.JIRA_BASE_URL, env.JIRA_EMAIL, env.JIRA_API_TOKEN, env.JIRA_API_TOKEN_ARN, problems),
    jenkins: connectorAccount('JENKINS', env.JENKINS_URL, env.JENKINS_USER, env.JENKINS_API_TOKEN, env.JENKINS_API_TOKEN_ARN, problems),
    writeGroups: list(env.CONNECTOR_WRITE_GROUPS),
    access,
    timeoutMs: env.CONNECTOR_TIMEOUT_MS
  }
}

export const BACKEND_NAME = /^[a-z][a-z0-9-]{0,30}$/
const SCOPE_LIST = Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,100}$' }), { maxItems: 20 })
const GROUP_LIST = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100 })
const BACKENDS_SCHEMA = Type.Record(Type.String({ pattern: BACKEND_NAME.source }), Type.Object({
  url: Type.String({ pattern: '^https?://[^\\s?#]+$', maxLength: 2048 }),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  scopes: Type.Optional(SCOPE_LIST),
  groups: Type.Optional(GROUP_LIST),
  tools: Type.Optional(Type.Record(Type.String({ pattern: '^(\\*|[A-Za-z0-9_./-]{1,128}\\*?)$' }), Type.Object({ scopes: Type.Optional(SCOPE_LIST), groups: Type.Optional(GROUP_LIST) }, { additionalProperties: false }))),
  mode: Type.Optional(Type.Union([Type.Literal('gateway'), Type.Literal('direct')])),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 28000 })),
  maxResponseBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 6 * 1024 * 1024 })),
  auth: Type.Optional(Type.Union([
    Type.Object({ type: Type.Literal('jwt') }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('secret'), secretArn: Type.String({ pattern: '^arn:aws[a-z-]*:(secretsmanager|ssm):' }), header: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' })) }, { additionalProperties: false })
  ]))
}, { additionalProperties: false }))

/**
 * GATEHOUSE_BACKENDS: each backend becomes the protected resource `<public URL>/mcp/<name>`. Its URL receives
 * gatehouse's JWTs (or a static secret), so it must be https unless loopback, and it can never be one of
 * gatehouse's own resources (a backend JWT would then be presented back to gatehouse).
 */
function backendsFrom (env: Env, publicUrl: string, scopes: string[], problems: string[]): BackendConfig[] {
  if (env.GATEHOUSE_BACKENDS === undefined) return []
  let parsed: unknown
  try { parsed = JSON.parse(env.GATEHOUSE_BACKENDS) } catch { parsed = undefined }
  if (parsed === undefined || !Value.Check(BACKENDS_SCHEMA, parsed) || Object.keys(parsed).some(name => !BACKEND_NAME.test(name))) {
    const first = parsed === undefined ? undefined : [...Value.Errors(BACKENDS_SCHEMA, parsed)][0]
    problems.push(`GATEHOUSE_BACKENDS: must be a JSON object {"<name matching ${BACKEND_NAME.source}>": {"url": …, …}}${first === undefined ? '' : ` (${first.instancePath || '/'} ${first.message})`}`)
    return []
  }
  if (env.GATEHOUSE_MODE === 'resource-server' && Object.keys(parsed).length > 0) problems.push('GATEHOUSE_BACKENDS: only in authorization-server mode (the gateway signs its backend tokens)')
  const backends: BackendConfig[] = []
  for (const [name, b] of Object.entries(parsed)) {
    const url = b.url.replace(/\/+$/, '')
    if (url.startsWith('http://') && !isLoopbackHttpUrl(url)) problems.push(`GATEHOUSE_BACKENDS: ${name}.url must be https unless it is a loopback address`)
    if (url === `${publicUrl}/mcp` || url.startsWith(`${publicUrl}/mcp/`)) problems.push(`GATEHOUSE_BACKENDS: ${name}.url must not be one of gatehouse's own resources`)
    const unknown = [...(b.scopes ?? []), ...Object.values(b.tools ?? {}).flatMap(rule => rule.scopes ?? [])].filter(s => !scopes.includes(s))
    for (const s of new Set(unknown)) problems.push(`GATEHOUSE_BACKENDS: ${name} names scope "${s}", which is not in SCOPES`)
    const tools: Record<string, BackendToolRule> = {}
    for (const [pattern, rule] of Object.entries(b.tools ?? {})) tools[pattern] = { scopes: rule.scopes ?? [], groups: rule.groups }
    backends.push({
      name,
      url,
      resource: b.mode === 'direct' ? url : `${publicUrl}/mcp/${name}`,
      direct: b.mode === 'direct',
      title: b.title ?? name,
      scopes: b.scopes ?? [],
      groups: b.groups,
      tools,
      timeoutMs: b.timeoutMs ?? 15000,
      maxResponseBytes: b.maxResponseBytes ?? 4 * 1024 * 1024,
      auth: b.auth?.type === 'secret' ? { type: 'secret', secretArn: b.auth.secretArn, header: (b.auth.header ?? 'authorization').toLowerCase() } : { type: 'jwt' }
    })
  }
  return backends
}
