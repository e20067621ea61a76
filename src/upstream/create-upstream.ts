// Picks the upstream behaviour for the configured issuer: any OIDC issuer through openid-client, with
// Cognito's own revocation API when the issuer is a Cognito user pool.
import type { UpstreamIdp } from '../ports/upstream.ts'
import { cognitoUserPoolOf, createCognitoRevoker } from './cognito.ts'
import { OidcUpstream, type OidcUpstreamOptions, type UpstreamConfig } from './oidc-upstream.ts'

export interface CreateUpstreamOptions extends Omit<OidcUpstreamOptions, 'revoker'> {
  /** Treat the issuer as a Cognito user pool even though its host is not Cognito's (cognito-local). */
  cognito?: { region: string, endpoint?: string }
}

export function createUpstream (config: UpstreamConfig, options: CreateUpstreamOptions): UpstreamIdp {
  const { cognito, ...rest } = options
  const region = cognito?.region ?? cognitoUserPoolOf(config.issuer)?.region
  if (region === undefined) return new OidcUpstream(config, rest)
  const revoker = createCognitoRevoker({
    region,
    clientId: config.clientId,
    clientSecret: options.clientSecret ?? config.clientSecret,
    timeoutMs: config.timeoutMs,
    ...(cognito?.endpoint === undefined ? {} : { endpoint: cognito.endpoint })
  })
  return new OidcUpstream(config, { ...rest, revoker })
}
