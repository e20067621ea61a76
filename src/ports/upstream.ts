// The enterprise IdP port (Cognito hosted UI or any OIDC issuer), implemented in src/upstream.
import type { UserIdentity } from './records.ts'

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
