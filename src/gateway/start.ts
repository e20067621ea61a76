// The gateway side of the composition: backend tokens, grant-bound sessions (and the sweep that ends those of
// revoked grants), one bearer check per backend resource, and the Gateway itself. src/routes/gateway.ts calls
// it once and stays a route.
import type { BackendConfig, Config } from '../config.ts'
import type { AuthorizationServerContext } from '../oauth/context.ts'
import { GatehouseBearer, GrantCheck } from '../mcp/bearer.ts'
import { resolveSecretArn, type SecretClients } from '../crypto/secrets.ts'
import { BackendTokens } from './backend-token.ts'
import { BackendConnections } from './forward.ts'
import { Gateway } from './gateway.ts'
import { GatewaySessions } from './sessions.ts'

export interface StartGatewayOptions {
  config: Pick<Config, 'publicUrl' | 'backends' | 'ttl'>
  ctx: Pick<AuthorizationServerContext, 'store' | 'clock' | 'keys' | 'cipher' | 'audit' | 'accessTokens'>
  log: { warn: (fields: Record<string, unknown>, message: string) => void }
  /** Clients for static backend credentials by ARN (Secrets Manager or SSM); built per region when absent. */
  secrets?: SecretClients
}

export interface StartedGateway {
  gateway: Gateway
  sessions: GatewaySessions
  /** The bearer check of each backend: tokens for its resource only (RFC 8707), grant still live. */
  bearers: Map<string, GatehouseBearer>
  /**
   * For a request refused with invalid_token that names a session: when the token is gatehouse's own, for this
   * backend, and its grant is no longer live, the backend session (sealed for that grant) is ended, on whichever
   * instance the request lands. Failures are logged, never thrown: the request is refused either way.
   */
  endSessionOfRefused: (backend: BackendConfig, token: string, presented: string) => Promise<void>
  close: () => Promise<void>
}

export function startGateway (options: StartGatewayOptions): StartedGateway {
  const { config, ctx } = options
  const byName = new Map<string, BackendConfig>(config.backends.map(backend => [backend.name, backend]))
  const readSecret = async (arn: string): Promise<string> => await resolveSecretArn(arn, options.secrets)
  let gateway: Gateway | undefined
  const connections = new BackendConnections()
  const sessions = new GatewaySessions({
    cipher: ctx.cipher,
    grants: ctx.store,
    clock: ctx.clock,
    end: async session => {
      const backend = byName.get(session.backend)
      if (backend !== undefined && gateway !== undefined) await gateway.end(backend, session)
    }
  })
  gateway = new Gateway({
    tokens: new BackendTokens({ keys: ctx.keys, clock: ctx.clock, issuer: config.publicUrl }),
    sessions,
    audit: ctx.audit,
    clock: ctx.clock,
    readSecret,
    connections
  })
  const grants = new GrantCheck({ store: ctx.store, clock: ctx.clock, ttlSeconds: config.ttl.grantCache })
  const bearers = new Map<string, GatehouseBearer>()
  for (const backend of config.backends.filter(b => !b.direct)) {
    bearers.set(backend.name, new GatehouseBearer({
      verifier: { verify: token => ctx.accessTokens.verify(token, [backend.resource]), hasKey: kid => ctx.accessTokens.hasKey(kid) },
      grants,
      clock: ctx.clock,
      skewSeconds: config.ttl.clockSkew
    }))
  }
  // Revoked grants' sessions end within about the grant-cache lifetime (at least every second).
  const timer = setInterval(() => {
    sessions.sweep().catch((error: unknown) => options.log.warn({ err: error }, 'gateway session sweep failed'))
  }, Math.max(1, config.ttl.grantCache) * 1000)
  timer.unref()
  const endSessionOfRefused = async (backend: BackendConfig, token: string, presented: string): Promise<void> => {
    const caller = bearers.get(backend.name)?.verifiedCaller(token)
    if (caller === undefined) return
    try {
      await sessions.endIfGrantInactive(backend.name, caller, presented)
    } catch (error) {
      options.log.warn({ err: error, backend: backend.name }, 'ending a backend session of an inactive grant failed')
    }
  }
  return { gateway, sessions, bearers, endSessionOfRefused, close: async () => { clearInterval(timer); connections.close() } }
}
