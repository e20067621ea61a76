// The store ports: one narrow interface per record, implemented by the DynamoDB adapter (src/store).
// All times are epoch seconds.
import type { AuthorizationCodeRecord, AuthorizationTransaction, ClientRecord, ConsentRecord, GrantRecord, RefreshTokenRecord } from './records.ts'

/** Outcome of a single-use transition: exactly one caller gets `won: true`. */
export type ConsumeResult<T> = { won: true, record: T } | { won: false, record?: T }

export interface ClientStore {
  /** Fails with StoreConflictError when the id exists. */
  saveClient (client: ClientRecord): Promise<void>
  findClient (clientId: string): Promise<ClientRecord | undefined>
  /** Moves an expiring client's expiry out to `expiresAt`; never shortens it, and a client that never expires (0) stays so. */
  extendClient (clientId: string, expiresAt: number): Promise<void>
}

export interface TransactionStore {
  /** Create-only: fails with StoreConflictError when it exists. */
  saveTransaction (tx: AuthorizationTransaction): Promise<void>
  findTransaction (id: string): Promise<AuthorizationTransaction | undefined>
  /** Records consent once: only a transaction not yet sent upstream can be. */
  markTransactionApproved (id: string, upstream: NonNullable<AuthorizationTransaction['upstream']>): Promise<ConsumeResult<AuthorizationTransaction>>
  /** Single use: deletes it and returns it to exactly one caller. */
  consumeTransaction (id: string): Promise<AuthorizationTransaction | undefined>
}

export interface CodeStore {
  /** Create-only: fails with StoreConflictError when it exists. */
  saveCode (code: AuthorizationCodeRecord): Promise<void>
  findCode (codeHash: string): Promise<AuthorizationCodeRecord | undefined>
  /** Single use: marks it consumed by `grantId`; a loser gets the record (with the winner's grantId) if it still exists. */
  consumeCode (codeHash: string, grantId: string, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>>
}

export interface GrantStore {
  /** Create-only: fails with StoreConflictError when it exists (a re-save must never clear revokedAt). */
  saveGrant (grant: GrantRecord): Promise<void>
  findGrant (grantId: string): Promise<GrantRecord | undefined>
  revokeGrant (grantId: string, now: number): Promise<void>
  /** Replaces the sealed upstream tokens, unless the grant was revoked meanwhile. */
  updateGrantUpstream (grantId: string, upstreamSealed: string, upstreamExpiresAt: number | undefined): Promise<boolean>
  /** Records when the grant last issued tokens (shown on the connected-apps page). */
  touchGrant (grantId: string, now: number): Promise<void>
  /** The user's live grants, revoked ones included; eventually consistent (an index), so never for a security decision. */
  listGrantsByUser (sub: string): Promise<GrantRecord[]>
}

/** What only the operator's admin command needs: whole-table reads and deletions, never on a request path. */
export interface AdminStore {
  listClients (): Promise<ClientRecord[]>
  /** A table scan. */
  listGrantsByClient (clientId: string): Promise<GrantRecord[]>
  deleteClient (clientId: string): Promise<void>
  /** Deletes every client whose `expiresAt` has passed (DynamoDB's TTL would, within days); returns their ids. */
  pruneExpiredClients (): Promise<string[]>
}

export interface RefreshTokenStore {
  /** Create-only: fails with StoreConflictError when it exists. */
  saveRefreshToken (token: RefreshTokenRecord): Promise<void>
  findRefreshToken (tokenHash: string): Promise<RefreshTokenRecord | undefined>
  /** Single use: exactly one caller wins; a loser learns the token was used before (reuse). */
  markRefreshTokenUsed (tokenHash: string, now: number): Promise<ConsumeResult<RefreshTokenRecord>>
}

export interface ConsentStore {
  /** Replaces an existing consent for the same user and client. */
  saveConsent (consent: ConsentRecord): Promise<void>
  findConsent (sub: string, clientId: string): Promise<ConsentRecord | undefined>
}

export interface Store extends ClientStore, TransactionStore, CodeStore, GrantStore, RefreshTokenStore, ConsentStore {
  /** Cheap reachability check for /healthz. */
  ping (): Promise<void>
}

/** A conditional write lost because the item already exists or changed. */
export class StoreConflictError extends Error {
  constructor (message = 'conditional write failed') { super(message); this.name = 'StoreConflictError' }
}

/** The store is unreachable, throttled or too slow; maps to 503 temporarily_unavailable. */
export class StoreUnavailableError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'StoreUnavailableError' }
}
