// The upstream IdP adapter: any OIDC issuer (the Cognito user pool in production, the development IdP
// locally) behind the UpstreamIdp port, with openid-client. Authorization code + PKCE (S256), state and
// nonce on every login; the ID token's signature, iss, aud and nonce are checked.
import { createHash, timingSafeEqual } from 'node:crypto'
import * as oidc from 'openid-client'
import type { Config } from '../config.ts'
import { isLoopbackHttpUrl } from '../loopback.ts'
import type { UserIdentity } from '../ports/records.ts'
import { UpstreamDeniedError, UpstreamGrantRevokedError, UpstreamUnavailableError, type UpstreamIdp, type UpstreamLogin, type UpstreamTokens } from '../ports/upstream.ts'

export type UpstreamConfig = Config['upstream']

/** pino-compatible; receives the internal detail (cause, upstream error body) that users never see. */
export interface UpstreamLogger {
  warn (fields: Record<string, unknown>, message: string): void
}

export interface OidcUpstreamOptions {
  /** gatehouse's callback URL, registered with the upstream app client. */
  redirectUri: string
  /**
   * The client secret, default config.clientSecret; or how to read it (UPSTREAM_CLIENT_SECRET_ARN), which
   * happens on the first upstream call, so a cold start that never meets the IdP never reads it.
   */
  clientSecret?: string | (() => Promise<string | undefined>)
  /** Revokes a refresh token instead of the revocation endpoint (Cognito's API). */
  revoker?: (refreshToken: string) => Promise<void>
  log?: UpstreamLogger
  /** Default client_secret_basic; cognito-local reads client_id only from the body, so it needs client_secret_post. */
  clientAuthMethod?: 'client_secret_basic' | 'client_secret_post'
  /**
   * For a loopback test IdP that drops the nonce (cognito-local): the nonce is still sent but the ID
   * token is accepted without it. Refused for any other issuer; Cognito itself echoes the nonce.
   */
  idTokenWithoutNonce?: boolean
  /** Epoch seconds; for expiresAt. */
  now?: () => number
}

export class OidcUpstream implements UpstreamIdp {
  readonly #config: UpstreamConfig
  readonly #options: OidcUpstreamOptions
  readonly #clientSecret: string | undefined | (() => Promise<string | undefined>)
  readonly #insecure: boolean
  /** Lazy and cached; dropped on failure so the next call retries (the IdP may still be booting). */
  #configuration: Promise<oidc.Configuration> | undefined

  constructor (config: UpstreamConfig, options: OidcUpstreamOptions) {
    this.#config = config
    this.#options = options
    this.#clientSecret = options.clientSecret ?? config.clientSecret
    // Plain HTTP only towards a loopback issuer (development IdP, cognito-local).
    this.#insecure = isLoopbackHttpUrl(config.issuer)
    const urls = [config.issuer, config.authorizationEndpoint, config.tokenEndpoint, config.jwksUri, config.revocationEndpoint]
    for (const url of urls) {
      if (url !== undefined && !url.startsWith('https://') && !(this.#insecure && isLoopbackHttpUrl(url))) {
        throw new Error(`upstream URL ${url} must be https (http only for a loopback issuer)`)
      }
    }
    if (options.idTokenWithoutNonce === true && !this.#insecure) throw new Error('idTokenWithoutNonce is only for a loopback test IdP')
  }

  async authorizationUrl (options: { state: string, codeVerifier: string, nonce: string }): Promise<URL> {
    const configuration = await this.#configuration_('authorization_url')
    // Never a `resource` parameter: the upstream knows nothing of gatehouse's resources.
    return oidc.buildAuthorizationUrl(configuration, {
      response_type: 'code',
      redirect_uri: this.#options.redirectUri,
      scope: this.#config.scopes,
      state: options.state,
      nonce: options.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(options.codeVerifier),
      code_challenge_method: 'S256'
    })
  }

  async completeLogin (options: { callbackUrl: URL, state: string, codeVerifier: string, nonce: string }): Promise<UpstreamLogin> {
    const params = options.callbackUrl.searchParams
    // State first: an answer to someone else's request is refused before anything else is believed.
    if (!sameSecret(params.get('state') ?? '', options.state)) throw new UpstreamDeniedError('the login response does not match this sign-in (state)')
    const error = params.get('error')
    if (error !== null) {
      this.#options.log?.warn({ upstreamError: error, upstreamErrorDescription: params.get('error_description') }, 'upstream login refused')
      throw new UpstreamDeniedError(`the identity provider refused the sign-in (${error.replace(/[^\w.-]/g, '').slice(0, 64)})`)
    }
    if (!params.has('code')) throw new UpstreamDeniedError('the login response carries no authorization code')

    const configuration = await this.#configuration_('code_exchange')
    // The token request's redirect_uri must be the one sent upstream, whatever host the callback arrived on.
    const currentUrl = new URL(this.#options.redirectUri)
    for (const [k, v] of params) currentUrl.searchParams.append(k, v)
    let response: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>
    try {
      response = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: options.codeVerifier,
        expectedState: options.state,
        ...(this.#options.idTokenWithoutNonce === true ? {} : { expectedNonce: options.nonce }),
        idTokenExpected: true
      })
    } catch (err) {
      // An expired or replayed code is this login's failure, not the IdP's.
      if (err instanceof oidc.AuthorizationResponseError || (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant')) {
        this.#options.log?.warn({ err }, 'upstream code exchange refused')
        throw new UpstreamDeniedError('the identity provider refused the sign-in')
      }
      throw this.#unavailable('code_exchange', err)
    }
    const claims = response.claims()
    if (claims === undefined) throw this.#unavailable('code_exchange', new Error('no ID token'))
    return { identity: identityFromClaims(claims), tokens: this.#tokens(response) }
  }

  async refresh (refreshToken: string): Promise<UpstreamTokens> {
    const configuration = await this.#configuration_('refresh')
    try {
      const response = await oidc.refreshTokenGrant(configuration, refreshToken)
      // Cognito does not rotate refresh tokens: keep the one we have when none comes back.
      return this.#tokens(response, refreshToken)
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
        throw new UpstreamGrantRevokedError('the upstream session has ended')
      }
      throw this.#unavailable('refresh', err)
    }
  }

  async revoke (refreshToken: string): Promise<void> {
    if (this.#options.revoker !== undefined) {
      try {
        await this.#options.revoker(refreshToken)
      } catch (err) {
        throw this.#unavailable('revoke', err)
      }
      return
    }
    const configuration = await this.#configuration_('revoke')
    if (configuration.serverMetadata().revocation_endpoint === undefined) {
      this.#options.log?.warn({ operation: 'revoke' }, 'upstream has no revocation endpoint; the upstream refresh token stays valid until it expires')
      return
    }
    try {
      await oidc.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' })
    } catch (err) {
      throw this.#unavailable('revoke', err)
    }
  }

  #configuration_ (operation: string): Promise<oidc.Configuration> {
    this.#configuration ??= this.#discover().catch((err: unknown) => {
      this.#configuration = undefined
      throw this.#unavailable(`${operation}: discovery`, err)
    })
    return this.#configuration
  }

  async #discover (): Promise<oidc.Configuration> {
    const c = this.#config
    const timeout = c.timeoutMs / 1000
    const secret = typeof this.#clientSecret === 'function' ? await this.#clientSecret() : this.#clientSecret
    const auth = secret === undefined
      ? oidc.None()
      : this.#options.clientAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret)
    let discovered: oidc.ServerMetadata = { issuer: c.issuer }
    // With all three endpoints given there is nothing to discover (an issuer without a discovery document).
    if (c.authorizationEndpoint === undefined || c.tokenEndpoint === undefined || c.jwksUri === undefined) {
      discovered = (await oidc.discovery(new URL(c.issuer), c.clientId, undefined, auth, {
        timeout,
        execute: this.#insecure ? [oidc.allowInsecureRequests] : []
      })).serverMetadata()
    }
    const metadata: oidc.ServerMetadata = {
      ...discovered,
      ...(c.authorizationEndpoint === undefined ? {} : { authorization_endpoint: c.authorizationEndpoint }),
      ...(c.tokenEndpoint === undefined ? {} : { token_endpoint: c.tokenEndpoint }),
      ...(c.jwksUri === undefined ? {} : { jwks_uri: c.jwksUri }),
      ...(c.revocationEndpoint === undefined ? {} : { revocation_endpoint: c.revocationEndpoint })
    }
    const configuration = new oidc.Configuration(metadata, c.clientId, undefined, auth)
    configuration.timeout = timeout
    if (this.#insecure) oidc.allowInsecureRequests(configuration)
    // Verify the ID token's signature against the issuer's JWKS (openid-client skips it by default for TLS token responses).
    oidc.enableNonRepudiationChecks(configuration)
    return configuration
  }

  #tokens (response: oidc.TokenEndpointResponse, previousRefreshToken?: string): UpstreamTokens {
    const refreshToken = response.refresh_token ?? previousRefreshToken
    return {
      accessToken: response.access_token,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      ...(response.id_token === undefined ? {} : { idToken: response.id_token }),
      ...(typeof response.expires_in === 'number' ? { expiresAt: (this.#options.now?.() ?? Math.floor(Date.now() / 1000)) + response.expires_in } : {})
    }
  }

  /** A generic message for users; the cause (upstream body, stack) goes to the log only. */
  #unavailable (operation: string, err: unknown): UpstreamUnavailableError {
    if (err instanceof UpstreamUnavailableError) return err
    this.#options.log?.warn({ err, operation }, 'upstream identity provider call failed')
    return new UpstreamUnavailableError('the identity provider is unavailable', { cause: err })
  }
}

/** Maps Cognito's (or any OIDC issuer's) ID token claims to gatehouse's identity. */
export function identityFromClaims (claims: Record<string, unknown>): UserIdentity {
  const string = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined
  const sub = string(claims.sub)
  if (sub === undefined) throw new UpstreamUnavailableError('the identity provider returned no subject')
  const rawGroups = claims['cognito:groups'] ?? claims.groups
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === 'string') : []
  const email = string(claims.email)
  const username = string(claims['cognito:username']) ?? string(claims.preferred_username)
  return {
    sub,
    ...(email === undefined ? {} : { email }),
    ...(username === undefined ? {} : { username }),
    groups
  }
}

function sameSecret (a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
