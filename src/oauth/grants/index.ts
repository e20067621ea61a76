// Grant types are registered, not switched on: the token endpoint looks the handler up and passes it
// only the parameters it declares.
import { InvalidRequestError, UnauthorizedClientError, UnsupportedGrantTypeError } from '../errors.ts'
import { authenticateClient, type ClientCredentials } from '../clients.ts'
import { clientRules, type AuthorizationServerContext } from '../context.ts'
import { authorizationCodeGrant } from './authorization-code.ts'
import { refreshTokenGrant } from './refresh-token.ts'
import type { GrantHandler, TokenParams, TokenResponse } from './types.ts'

export const GRANTS: ReadonlyMap<string, GrantHandler> = new Map([authorizationCodeGrant, refreshTokenGrant].map(g => [g.grantType, g]))

export type { TokenResponse, TokenParams } from './types.ts'

/** POST /token: authenticates the client, then runs the grant type's handler. */
export async function exchangeToken (params: TokenParams, credentials: ClientCredentials, ctx: AuthorizationServerContext): Promise<TokenResponse> {
  const grantType = params.grant_type
  if (grantType === undefined || grantType === '') throw new InvalidRequestError('grant_type is required')
  const handler = GRANTS.get(grantType)
  if (handler === undefined) throw new UnsupportedGrantTypeError(`grant_type ${grantType.slice(0, 50)} is not supported`)
  const client = await authenticateClient(credentials, clientRules(ctx))
  if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClientError(`this client is not registered for ${grantType}`)
  const allowed: TokenParams = {}
  for (const name of handler.parameters) allowed[name] = params[name]
  return await handler.handle(allowed, client, ctx)
}
