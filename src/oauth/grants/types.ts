import type { AuthorizationServerContext } from '../context.ts'
import type { ClientRecord } from '../../ports/records.ts'

import type { TokenResponse } from '../../schemas/oauth.ts'

/** The token endpoint's successful answer (RFC 6749 §5.1); its schema is the route's response schema. */
export type { TokenResponse }

export type TokenParams = Record<string, string | undefined>

/** A grant type: its name, the body parameters it accepts, and its handler. */
export interface GrantHandler {
  grantType: string
  parameters: readonly string[]
  handle (params: TokenParams, client: ClientRecord, ctx: AuthorizationServerContext): Promise<TokenResponse>
}
