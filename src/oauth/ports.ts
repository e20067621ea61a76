// Ports: what the authorization server's rules need from the outside world.
// Adapters (src/store, src/crypto, src/upstream) implement them; the rules never see DynamoDB, KMS or HTTP.
// All times are epoch seconds. Every record carries its own `expiresAt`, decided by the rules;
// adapters must treat a record whose `expiresAt` has passed as absent (DynamoDB's TTL deletes lazily).

export interface Clock {
  /** Epoch seconds. */
  now (): number
}

export const SYSTEM_CLOCK: Clock = { now: () => Math.floor(Date.now() / 1000) }

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

export interface ClientRecord {
  clientId: string
  /** SHA-256 (hex) of the secret; absent for public clients. */
  clientSecretHash?: string
  tokenEndpointAuthMethod: TokenEndpointAuthMethod
  redirectUris: string[]
  grantTypes: string[]
  responseTypes: string[]
  clientName?: string
  clientUri?: string
  logoUri?: string
  scope?: string
  softwareId?: string
  softwareVersion?: string
  createdAt: number
  /** 0 = never. */
  expiresAt: number
}

/** A pending /authorize request, from the consent page until the upstream IdP returns. */
export interface AuthorizationTransaction {
  id: string
  clientId: string
  redirectUri: string
  /** The request relied on the client's single registered redirect URI (then /token may omit it too). */
  redirectUriOmitted?: boolean
  state?: string
  codeChallenge: string
  scope: string[]
  resource: string
  /** SHA-256 of the random value in the browser's transaction cookie: the browser that consents must be the one that returns. */
  browserBindingHash: string
  /** SHA-256 of the consent form's CSRF token. */
  csrfHash: string
  /** Set once consent is given and the browser is sent upstream. */
  upstream?: { codeVerifier: string, nonce: string }
  createdAt: number
  expiresAt: number
}

export interface UserIdentity {
  sub: string
  email?: string
  username?: string
  groups: string[]
}

export interface AuthorizationCodeRecord {
  codeHash: string
  clientId: string
  redirectUri: string
  redirectUriOmitted?: boolean
  codeChallenge: string
  scope: string[]
  resource: string
  identity: UserIdentity
  /** Upstream tokens, encrypted (see Cipher). Moves to the grant on redemption. */
  upstreamSealed?: string
  upstreamExpiresAt?: number
  /** Set by the single successful redemption, with the grant it produced. */
  consumedAt?: number
  grantId?: string
  createdAt: number
  expiresAt: number
}

export interface GrantRecord {
  grantId: string
  clientId: string
  identity: UserIdentity
  scope: string[]
  resource: string
  upstreamSealed?: string
  upstreamExpiresAt?: number
  createdAt: number
  /** Absolute cap on the grant's life; refresh tokens never outlive it. */
  expiresAt: number
  revokedAt?: number
}

export interface RefreshTokenRecord {
  tokenHash: string
  grantId: string
  clientId: string
  scope: string[]
  createdAt: number
  expiresAt: number
  /** Set by the single rotation that used it; a second use is reuse. */
  usedAt?: number
}

export interface ConsentRecord {
  sub: string
  clientId: string
  scope: string[]
  createdAt: number
  expiresAt: number
}

/** Outcome of a single-use transition: exactly one caller gets `won: true`. */
export type ConsumeResult<T> = { won: true, record: T } | { won: false, record?: T }

export interface ClientStore {
  /** Fails with StoreConflictError when the id exists. */
  saveClient (client: ClientRecord): Promise<void>
  findClient (clientId: string): Promise<ClientRecord | undefined>
}

export interface TransactionStore {
  /** Create-only: fails with StoreConflictError when it exists. */
  saveTransaction (tx: AuthorizationTransaction): Promise<void>
  findTransaction (id: string): Promise<AuthorizationTransaction | undefined>
  /** Records consent once: only a transaction not yet sent upstream can be. */
  markTransactionApproved (id: string, upstream: NonNullable<AuthorizationTransaction['upstream']>): Promise<ConsumeResult<AuthorizationTransaction>>
  /** Single use: deletes it and returns it to exactly one caller. */
  consumeTransaction (id: string): Promise<AuthorizationTransaction | undefined>
}

export interface CodeStore {
  /** Create-only: fails with StoreConflictError when it exists. */
  saveCode (code: AuthorizationCodeRecord): Promise<void>
  findCode (codeHash: string): Promise<AuthorizationCodeRecord | undefined>
  /** Single use: marks it consumed by `grantId`; a loser gets the record (with the winner's grantId) if it still exists. */
  consumeCode (codeHash: string, grantId: string, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>>
}

export interface GrantStore {
  /** Create-only: fails with StoreConflictError when it exists (a re-save must never clear revokedAt). */
  saveGrant (grant: GrantRecord): Promise<void>
  findGrant (grantId: string): Promise<GrantRecord | undefined>
  revokeGrant (grantId: string, now: number): Promise<void>
  /** Replaces the sealed upstream tokens, unless the grant was revoked meanwhile. */
  updateGrantUpstream (grantId: string, upstreamSealed: string, upstreamExpiresAt: number | undefined): Promise<boolean>
}

export interface RefreshTokenStore {
  /** Create-only: fails with StoreConflictError when it exists. */
  saveRefreshToken (token: RefreshTokenRecord): Promise<void>
  findRefreshToken (tokenHash: string): Promise<RefreshTokenRecord | undefined>
  /** Single use: exactly one caller wins; a loser learns the token was used before (reuse). */
  markRefreshTokenUsed (tokenHash: string, now: number): Promise<ConsumeResult<RefreshTokenRecord>>
}

export interface ConsentStore {
  /** Replaces an existing consent for the same user and client. */
  saveConsent (consent: ConsentRecord): Promise<void>
  findConsent (sub: string, clientId: string): Promise<ConsentRecord | undefined>
}

export interface Store extends ClientStore, TransactionStore, CodeStore, GrantStore, RefreshTokenStore, ConsentStore {
  /** Cheap reachability check for /healthz. */
  ping (): Promise<void>
}

/** A conditional write lost because the item already exists or changed. */
export class StoreConflictError extends Error {
  constructor (message = 'conditional write failed') { super(message); this.name = 'StoreConflictError' }
}

/** The store is unreachable, throttled or too slow; maps to 503 temporarily_unavailable. */
export class StoreUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'StoreUnavailableError' }
}

export interface PublicJwk {
  kty: 'RSA'
  n: string
  e: string
  kid: string
  alg: 'RS256'
  use: 'sig'
}

/** Signs access tokens. Local RSA key in development, AWS KMS asymmetric key on AWS. */
export interface Signer {
  readonly kid: string
  /** RSASSA-PKCS1-v1_5 with SHA-256 over `data`. */
  sign (data: Uint8Array): Promise<Uint8Array>
}

export interface KeySet {
  /** The key that signs new tokens. */
  current: Signer
  /** Current first, then the previous keys still needed to verify live tokens. */
  publicKeys (): Promise<PublicJwk[]>
}

/** Seals secrets at rest (upstream tokens). AES-256-GCM; KMS envelope on AWS, a local key in development. */
export interface Cipher {
  /** `context` is bound as additional authenticated data (e.g. the grant or code it belongs to). */
  seal (plaintext: string, context: string): Promise<string>
  open (sealed: string, context: string): Promise<string>
}

export interface UpstreamTokens {
  accessToken: string
  refreshToken?: string
  idToken?: string
  /** Epoch seconds when the access token expires. */
  expiresAt?: number
}

export interface UpstreamLogin {
  identity: UserIdentity
  tokens: UpstreamTokens
}

/** The enterprise IdP (Cognito hosted UI or any OIDC issuer), used only to learn who the user is. */
export interface UpstreamIdp {
  /** Where to send the browser; the upstream call always carries PKCE (S256), state and nonce. */
  authorizationUrl (options: { state: string, codeVerifier: string, nonce: string }): Promise<URL>
  /** Exchanges the code from the callback URL; validates state, nonce and the ID token. */
  completeLogin (options: { callbackUrl: URL, state: string, codeVerifier: string, nonce: string }): Promise<UpstreamLogin>
  /** Throws UpstreamGrantRevokedError when the upstream session is gone. */
  refresh (refreshToken: string): Promise<UpstreamTokens>
  revoke (refreshToken: string): Promise<void>
}

/** The user denied or the IdP refused the login (maps to access_denied). */
export class UpstreamDeniedError extends Error {
  constructor (message: string) { super(message); this.name = 'UpstreamDeniedError' }
}

/** The upstream refresh token was revoked or expired: the grant must end. */
export class UpstreamGrantRevokedError extends Error {
  constructor (message: string) { super(message); this.name = 'UpstreamGrantRevokedError' }
}

/** The upstream IdP is down, slow or answered nonsense (maps to temporarily_unavailable / server_error). */
export class UpstreamUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'UpstreamUnavailableError' }
}

/** Something that emits audit events with stable names; never given tokens or secrets. */
export interface AuditLog {
  event (name: AuditEventName, fields: Record<string, unknown>): void
}

export type AuditEventName =
  | 'client.registered'
  | 'consent.granted'
  | 'consent.denied'
  | 'login.succeeded'
  | 'login.failed'
  | 'grant.issued'
  | 'token.refreshed'
  | 'code.reuse_detected'
  | 'refresh.reuse_detected'
  | 'grant.revoked'
  | 'token.introspected'
  | 'tool.denied'
