// Cognito-specific upstream calls. Cognito's RevokeToken API (rather than /oauth2/revoke) is used so
// that AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER, honoured by the SDK, also reaches cognito-local.
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'

export interface CognitoUserPool {
  region: string
  userPoolId: string
}

/** The user pool behind an issuer `https://cognito-idp.<region>.amazonaws.com/<poolId>`, or undefined. */
export function cognitoUserPoolOf (issuer: string): CognitoUserPool | undefined {
  const url = URL.parse(issuer)
  const host = /^cognito-idp\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url?.hostname ?? '')
  const pool = /^\/([a-z0-9-]+_[A-Za-z0-9]+)\/?$/.exec(url?.pathname ?? '')
  if (url?.protocol !== 'https:' || host?.[1] === undefined || pool?.[1] === undefined) return undefined
  return { region: host[1], userPoolId: pool[1] }
}

export interface CognitoRevokerOptions {
  region: string
  clientId: string
  /** The app client's secret, or how to read it (on the first revocation). */
  clientSecret: string | undefined | (() => Promise<string | undefined>)
  timeoutMs: number
  /** Explicit endpoint (cognito-local); otherwise the SDK's own resolution, environment included. */
  endpoint?: string
}

/** Revokes a Cognito refresh token (and the access tokens issued from it). */
export function createCognitoRevoker (options: CognitoRevokerOptions): (refreshToken: string) => Promise<void> {
  // The SDK client is loaded on the first revocation, not at cold start.
  let client: CognitoIdentityProviderClient | undefined
  return async refreshToken => {
    const { CognitoIdentityProviderClient, RevokeTokenCommand } = await import('@aws-sdk/client-cognito-identity-provider')
    client ??= new CognitoIdentityProviderClient({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      requestHandler: { requestTimeout: options.timeoutMs, connectionTimeout: options.timeoutMs },
      maxAttempts: 2
    })
    const clientSecret = typeof options.clientSecret === 'function' ? await options.clientSecret() : options.clientSecret
    await client.send(new RevokeTokenCommand({
      ClientId: options.clientId,
      ...(clientSecret === undefined ? {} : { ClientSecret: clientSecret }),
      Token: refreshToken
    }), { abortSignal: AbortSignal.timeout(options.timeoutMs * 2) })
  }
}
