// What people and operators do with grants after they were issued: the connected-apps page lists a user's
// grants and revokes one of them; the admin command lists clients and grants, revokes a grant, all of a
// user's grants, or a client with its grants, and prunes unused registrations. Revoking a grant ends its
// refresh-token family (every refresh checks the grant) and its upstream session (UpstreamIdp.revoke);
// /mcp refuses its access tokens once its grant-check cache (GRANT_CACHE_TTL) forgets the grant. RFC 7009
// revocation (src/oauth/introspection.ts) ends a grant the same way.
import type { AuditLog } from '../ports/audit.ts'
import type { Cipher } from '../ports/cipher.ts'
import type { Clock } from '../ports/clock.ts'
import type { ClientRecord, GrantRecord } from '../ports/records.ts'
import type { AdminStore, ClientStore, GrantStore } from '../ports/store.ts'
import type { UpstreamIdp, UpstreamTokens } from '../ports/upstream.ts'
import { AccessDeniedError } from './errors.ts'

export interface GrantRevocationContext {
  store: Pick<GrantStore, 'findGrant' | 'revokeGrant'>
  clock: Clock
  cipher: Pick<Cipher, 'open'>
  upstream: Pick<UpstreamIdp, 'revoke'>
  audit: AuditLog
}

/** Why a grant was revoked by someone's decision (the user, the operator, the client through RFC 7009). */
export type RevocationReason = 'user_revocation' | 'admin_revocation' | 'client_removed' | 'client_revocation'

/** What happened to the upstream session: revoked, there was none, or the IdP call failed (the grant is revoked regardless). */
export type UpstreamRevocation = 'revoked' | 'none' | 'failed'

/** Revokes the grant (and so its refresh tokens), then its upstream refresh token. Idempotent. */
export async function revokeGrantEverywhere (grant: GrantRecord, reason: RevocationReason, ctx: GrantRevocationContext): Promise<UpstreamRevocation> {
  // Already revoked: that revocation was audited and ended the upstream session (or tried to).
  if (!await ctx.store.revokeGrant(grant.grantId, ctx.clock.now())) return 'none'
  const fields = { clientId: grant.clientId, grantId: grant.grantId, sub: grant.identity.sub, reason }
  ctx.audit.event('grant.revoked', fields)
  if (grant.upstreamSealed === undefined) return 'none'
  try {
    const tokens = JSON.parse(await ctx.cipher.open(grant.upstreamSealed, `grant:${grant.grantId}`)) as UpstreamTokens
    if (tokens.refreshToken === undefined) return 'none'
    await ctx.upstream.revoke(tokens.refreshToken)
    ctx.audit.event('grant.upstream_revoked', fields)
    return 'revoked'
  } catch (error) {
    ctx.audit.event('grant.upstream_revoked', { ...fields, upstreamRevocation: 'failed', error: (error as Error).name })
    return 'failed'
  }
}

/** A grant as the connected-apps page and the admin command show it. */
export interface ConnectedApp {
  grantId: string
  clientId: string
  /** The registered name, when the client gave one (metadata-document clients: the URL is the id). */
  clientName: string | undefined
  /** Hosts of the client's redirect URIs (where it receives codes). */
  redirectHosts: string[]
  resource: string
  scope: string[]
  sub: string
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  revokedAt: number | undefined
}

function redirectHost (uri: string): string {
  try {
    const url = new URL(uri)
    return url.host === '' ? `${url.protocol}` : url.host
  } catch { return uri }
}

export interface ConnectedAppsContext {
  store: Pick<GrantStore, 'listGrantsByUser'> & Pick<ClientStore, 'findClient'>
}

/** A grant with what its client says about itself; a client that is gone (pruned, removed) shows its id only. */
export async function describeGrants (grants: GrantRecord[], store: Pick<ClientStore, 'findClient'>): Promise<ConnectedApp[]> {
  const clients = new Map<string, ClientRecord | undefined>()
  for (const grant of grants) {
    // Metadata-document clients are not stored: their id is the URL people recognise.
    if (!clients.has(grant.clientId)) clients.set(grant.clientId, grant.clientId.startsWith('https://') ? undefined : await store.findClient(grant.clientId))
  }
  return grants
    .map(grant => {
      const client = clients.get(grant.clientId)
      return {
        grantId: grant.grantId,
        clientId: grant.clientId,
        clientName: client?.clientName,
        redirectHosts: [...new Set((client?.redirectUris ?? []).map(redirectHost))],
        resource: grant.resource,
        scope: grant.scope,
        sub: grant.identity.sub,
        createdAt: grant.createdAt,
        lastUsedAt: grant.lastUsedAt ?? grant.createdAt,
        expiresAt: grant.expiresAt,
        revokedAt: grant.revokedAt
      }
    })
    .sort((a, b) => b.createdAt - a.createdAt || a.grantId.localeCompare(b.grantId))
}

/** The connected-apps page: the user's grants that still work (revoked ones are gone from their point of view). */
export async function listConnectedApps (sub: string, ctx: ConnectedAppsContext): Promise<ConnectedApp[]> {
  const grants = (await ctx.store.listGrantsByUser(sub)).filter(grant => grant.revokedAt === undefined)
  return await describeGrants(grants, ctx.store)
}

/**
 * The user revokes one of their grants. The grant is read again consistently (the list came from an
 * index): a grant of someone else is refused, an unknown or already revoked one is a no-op.
 */
export async function revokeConnectedApp (sub: string, grantId: string, ctx: GrantRevocationContext): Promise<void> {
  const grant = await ctx.store.findGrant(grantId)
  if (grant === undefined || grant.revokedAt !== undefined) return
  if (grant.identity.sub !== sub) throw new AccessDeniedError('this connection belongs to another account', 'grant of another user')
  await revokeGrantEverywhere(grant, 'user_revocation', ctx)
}

export interface AdminContext extends GrantRevocationContext {
  store: GrantRevocationContext['store'] & Pick<GrantStore, 'listGrantsByUser'> & Pick<ClientStore, 'findClient'> & AdminStore
}

export interface RevocationSummary { grantId: string, clientId: string, sub: string, upstream: UpstreamRevocation }

async function revokeAll (grants: GrantRecord[], reason: RevocationReason, ctx: AdminContext): Promise<RevocationSummary[]> {
  const done: RevocationSummary[] = []
  for (const grant of grants) {
    if (grant.revokedAt !== undefined) continue
    const upstream = await revokeGrantEverywhere(grant, reason, ctx)
    done.push({ grantId: grant.grantId, clientId: grant.clientId, sub: grant.identity.sub, upstream })
  }
  return done
}

/** Operator: one grant, by id (again is harmless). Undefined when there is no such grant. */
export async function adminRevokeGrant (grantId: string, ctx: AdminContext): Promise<RevocationSummary | undefined> {
  const grant = await ctx.store.findGrant(grantId)
  if (grant === undefined) return undefined
  const upstream = await revokeGrantEverywhere(grant, 'admin_revocation', ctx)
  return { grantId, clientId: grant.clientId, sub: grant.identity.sub, upstream }
}

/** Operator: every grant a user holds. */
export async function adminRevokeUser (sub: string, ctx: AdminContext): Promise<RevocationSummary[]> {
  return await revokeAll(await ctx.store.listGrantsByUser(sub), 'admin_revocation', ctx)
}

/** Operator: a registered client and every grant it holds; the client id is never reassigned (ids are random). */
export async function adminRemoveClient (clientId: string, ctx: AdminContext): Promise<{ client: ClientRecord | undefined, revoked: RevocationSummary[] }> {
  const client = await ctx.store.findClient(clientId)
  const revoked = await revokeAll(await ctx.store.listGrantsByClient(clientId), 'client_removed', ctx)
  if (client !== undefined) {
    await ctx.store.deleteClient(clientId)
    ctx.audit.event('client.removed', { clientId, grants: revoked.length })
  }
  return { client, revoked }
}

/** Operator: removes expired registrations now (DynamoDB's TTL does it within days). */
export async function pruneClients (ctx: Pick<AdminContext, 'store' | 'audit'>): Promise<string[]> {
  const removed = await ctx.store.pruneExpiredClients()
  for (const clientId of removed) ctx.audit.event('client.removed', { clientId, reason: 'unused' })
  return removed
}
