// oidc-provider ships no type declarations; this covers only the surface the development IdP uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface InteractionDetails {
    uid: string
    prompt: { name: string, reasons: string[], details: Record<string, unknown> }
    params: Record<string, unknown>
    session?: { accountId?: string }
    grantId?: string
  }

  export interface Grant {
    addOIDCScope (scope: string): void
    addOIDCClaims (claims: string[]): void
    addResourceScope (indicator: string, scope: string): void
    save (): Promise<string>
  }

  export interface GrantConstructor {
    new (properties: { accountId: string, clientId: string }): Grant
    find (id: string): Promise<Grant | undefined>
  }

  export class Provider {
    constructor (issuer: string, configuration: Record<string, unknown>)
    readonly Grant: GrantConstructor
    callback (): (req: IncomingMessage, res: ServerResponse) => void
    interactionDetails (req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
    interactionFinished (req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>
    on (event: string, listener: (...args: any[]) => void): this
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error
    SessionNotFound: new (description?: string) => Error
  }

  export default Provider
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  export function createMemoryAdapter (clockTolerance?: number): unknown
}
