// The records the authorization server keeps. Every record carries its own `expiresAt`, decided by the
// rules; adapters must treat a record whose `expiresAt` has passed as absent (DynamoDB's TTL deletes lazily).
// Hashes are SHA-256, base64url-encoded.

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

export interface ClientRecord {
  clientId: string
  /** SHA-256 (base64url) of the secret; absent for public clients. */
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
  /** OpenID Connect Dynamic Client Registration's application_type, kept as registered (MCP 2026-07-28, SEP-837). */
  applicationType?: 'web' | 'native'
  createdAt: number
  /** 0 = never. Registered clients expire when unused (CLIENT_UNUSED_DAYS); each grant pushes it out. */
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
  /** Set by the single successful redemption. */
  consumedAt?: number
  /** The random stamp of the redemption that consumed it: a retried write (its answer lost) recognises its own. */
  consumedBy?: string
  /** The grant its redemption produces, drawn when the code is made: a replay can revoke it even before it is saved. */
  grantId: string
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
  /** When a refresh last issued tokens from it (creation counts as use). */
  lastUsedAt?: number
  /** The grant's one live refresh token (rotation replaces it); absent on a grant whose token is still a legacy item. */
  refreshToken?: GrantRefreshToken
  /** Recently rotated-out refresh tokens, newest first: presenting one again is reuse (RFC 9700 §4.14.2). */
  retiredRefreshTokens?: RetiredRefreshToken[]
}

/** A refresh token held on its grant: `<grantId>.<secret>`, stored only as the SHA-256 of the whole token. */
export interface GrantRefreshToken {
  tokenHash: string
  /** The scope it was issued with (RFC 6749 §6: a refresh asking for less narrows the access token only). */
  scope: string[]
  createdAt: number
  /** Sliding (REFRESH_TOKEN_TTL), never past the grant's own expiresAt. */
  expiresAt: number
}

export interface RetiredRefreshToken {
  tokenHash: string
  /** When the token would have expired; after that it is forgotten. */
  expiresAt: number
  /** When it was rotated out; absent on entries written before this was kept (read as long ago). */
  retiredAt?: number
}

/**
 * Legacy: a refresh token stored as its own item (`RT#<hash>`), as issued before refresh tokens moved onto
 * their grant. Still honoured until it expires; its first use moves the grant onto the new form.
 */
export interface RefreshTokenRecord {
  tokenHash: string
  grantId: string
  clientId: string
  scope: string[]
  createdAt: number
  expiresAt: number
  /** Set by the single rotation that used it; a second use is reuse. */
  usedAt?: number
  /** The random stamp of that rotation: a retried write (its answer lost) recognises its own. */
  usedBy?: string
}

export interface ConsentRecord {
  sub: string
  clientId: string
  scope: string[]
  createdAt: number
  expiresAt: number
}
