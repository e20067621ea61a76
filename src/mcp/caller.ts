// Who is calling /mcp, as the bearer guard established it for this one request. Tools and the tools/list
// filter read it from the request, never from the (shared) MCP server, so identity cannot leak between users.

export interface Caller {
  sub: string
  email?: string
  groups: string[]
  scopes: string[]
  clientId: string
  /** The gatehouse grant behind the token; absent for tokens from a trusted external issuer. */
  grantId?: string
  issuer: string
  /** Epoch seconds. */
  expiresAt: number
}

/** What a tool asks of its caller: one scope, and (when non-empty) membership in any of the groups. */
export interface Requirement {
  scope: string
  groups: readonly string[]
}

/**
 * "The same principal" wherever /mcp binds something to its caller (a session id, a resumable stream, a request
 * sent to the client): the user (issuer and subject) through the same client. Not the grant, on purpose: a
 * step-up (MCP authorization, "Scope challenge handling") re-authorizes mid-session and retries with a new
 * grant's token, and must keep what the old token started.
 */
export const principalKey = (caller: Pick<Caller, 'issuer' | 'sub' | 'clientId'>): string =>
  JSON.stringify([caller.issuer, caller.sub, caller.clientId])

export const hasScope = (caller: Caller, scope: string): boolean => caller.scopes.includes(scope)

export const inAnyGroup = (caller: Caller, groups: readonly string[]): boolean =>
  groups.length === 0 || groups.some(g => caller.groups.includes(g))

export const isAllowed = (caller: Caller, requirement: Requirement): boolean =>
  hasScope(caller, requirement.scope) && inAnyGroup(caller, requirement.groups)
