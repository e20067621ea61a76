// One class per OAuth error code (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7591 §3.2.2).
// `description` is shown to the client; `detail` is for logs only and never leaves the server.

export class OAuthError extends Error {
  readonly code: string
  readonly status: number
  readonly description: string
  readonly detail: string | undefined

  constructor (code: string, status: number, description: string, detail?: string) {
    super(`${code}: ${description}${detail ? ` (${detail})` : ''}`)
    this.name = new.target.name
    this.code = code
    this.status = status
    this.description = description
    this.detail = detail
  }

  toJSON (): { error: string, error_description: string } {
    return { error: this.code, error_description: this.description }
  }
}

export class InvalidRequestError extends OAuthError {
  constructor (description: string, detail?: string) { super('invalid_request', 400, description, detail) }
}

/** 401 when the client tried to authenticate with a scheme (RFC 6749 §5.2); routes add WWW-Authenticate. */
export class InvalidClientError extends OAuthError {
  constructor (description = 'client authentication failed', detail?: string) { super('invalid_client', 401, description, detail) }
}

export class InvalidGrantError extends OAuthError {
  constructor (description = 'grant is invalid, expired or revoked', detail?: string) { super('invalid_grant', 400, description, detail) }
}

export class UnauthorizedClientError extends OAuthError {
  constructor (description: string, detail?: string) { super('unauthorized_client', 400, description, detail) }
}

export class UnsupportedGrantTypeError extends OAuthError {
  constructor (description = 'grant_type is not supported', detail?: string) { super('unsupported_grant_type', 400, description, detail) }
}

export class UnsupportedResponseTypeError extends OAuthError {
  constructor (description = 'response_type must be code', detail?: string) { super('unsupported_response_type', 400, description, detail) }
}

export class InvalidScopeError extends OAuthError {
  constructor (description: string, detail?: string) { super('invalid_scope', 400, description, detail) }
}

/** RFC 8707 §2: the resource parameter names something this server does not issue tokens for. */
export class InvalidTargetError extends OAuthError {
  constructor (description: string, detail?: string) { super('invalid_target', 400, description, detail) }
}

export class AccessDeniedError extends OAuthError {
  constructor (description = 'the resource owner or server denied the request', detail?: string) { super('access_denied', 403, description, detail) }
}

export class InvalidRedirectUriError extends OAuthError {
  constructor (description: string, detail?: string) { super('invalid_redirect_uri', 400, description, detail) }
}

export class InvalidClientMetadataError extends OAuthError {
  constructor (description: string, detail?: string) { super('invalid_client_metadata', 400, description, detail) }
}

export class InvalidTokenError extends OAuthError {
  constructor (description = 'the access token is missing, invalid, expired or revoked', detail?: string) { super('invalid_token', 401, description, detail) }
}

/** No credential at all: the Bearer challenge then carries no error code (RFC 6750 §3.1). */
export class MissingTokenError extends OAuthError {
  constructor () { super('invalid_token', 401, 'a bearer access token is required') }
}

export class InsufficientScopeError extends OAuthError {
  readonly requiredScope: string
  constructor (requiredScope: string, description = 'the access token lacks the scope this call needs', detail?: string) {
    super('insufficient_scope', 403, description, detail)
    this.requiredScope = requiredScope
  }
}

export class ServerError extends OAuthError {
  constructor (description = 'the server could not complete the request', detail?: string) { super('server_error', 500, description, detail) }
}

/** The store or the upstream IdP is unreachable or too slow; the client may retry. */
export class TemporarilyUnavailableError extends OAuthError {
  constructor (description = 'the service is temporarily unavailable, try again shortly', detail?: string) { super('temporarily_unavailable', 503, description, detail) }
}

export class TooManyRequestsError extends OAuthError {
  constructor (description = 'too many requests, slow down', detail?: string) { super('too_many_requests', 429, description, detail) }
}
