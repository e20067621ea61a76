import type { AuthorizationServerContext } from '../context.ts'
import type { ClientRecord } from '../../ports/records.ts'

/** The token endpoint's successful answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
}

export type TokenParams = Record<string, string | undefined>

/** A grant type: its name, the body parameters it accepts, and its handler. */
export interface GrantHandler {
  grantType: string
  parameters: readonly string[]
  handle (params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext): Promise<TokenResponse>
}
