// The store ports: one narrow interface per record, implemented by the DynamoDB adapter (src/store).
// All times are epoch seconds.
import type { AuthorizationCodeRecord, AuthorizationTransaction, ClientRecord, ConsentRecord, GrantRecord, GrantRefreshToken, RefreshTokenRecord, RetiredRefreshToken } from './records.ts'

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
  /**
   * Single use, and only by a request that matches the code (`expected`): the winner gets the record (with
   * its grantId); a loser, or a request that does not match, gets the record as it is, if it still exists,
   * and the code stays as it was.
   */
  consumeCode (codeHash: string, expected: CodeRedemption, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>>
  /** Undoes this redemption (`consumedBy` as stamped) when nothing was issued from it, e.g. signing failed. */
  releaseCode (codeHash: string, consumedBy: string): Promise<void>
}

/** What a redemption must match on the code; a mismatch leaves the code unconsumed. */
export interface CodeRedemption {
  clientId: string
  /** S256 of the presented code_verifier. */
  codeChallenge: string
  /** The presented redirect_uri; undefined: none was sent, so the authorization request must have omitted it too. */
  redirectUri: string | undefined
  /** The resource the token request named; undefined: none, the code's own. */
  resource: string | undefined
  /** A random stamp of this redemption, written with `consumedAt`. */
  consumedBy: string
}

/** One refresh-token rotation on a grant: the next token, the retired list to keep, new upstream tokens if refreshed. */
export interface RefreshRotation {
  next: GrantRefreshToken
  retired: RetiredRefreshToken[]
  upstream?: { sealed: string, expiresAt: number | undefined } | undefined
}

export interface GrantStore {
  /** Create-only: fails with StoreConflictError when it exists (a re-save must never clear revokedAt). */
  saveGrant (grant: GrantRecord): Promise<void>
  findGrant (grantId: string): Promise<GrantRecord | undefined>
  /** Idempotent, keeps the first revocation time; true when this call revoked it (audit the transition only). */
  revokeGrant (grantId: string, now: number): Promise<boolean>
  /**
   * Rotates the grant's refresh token in one conditional write, which also stamps `lastUsedAt`: only while the
   * grant is live and unrevoked and its current token is `presentedHash` (undefined: it has none yet, its token
   * was a legacy item). Exactly one of concurrent rotations wins; a loser gets the grant as it now is.
   */
  rotateRefreshToken (grantId: string, presentedHash: string | undefined, rotation: RefreshRotation, now: number): Promise<ConsumeResult<GrantRecord>>
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

/** Legacy refresh-token items (`RefreshTokenRecord`): read and used up, no longer written by the rules. */
export interface RefreshTokenStore {
  /** Create-only: fails with StoreConflictError when it exists. Writes the legacy shape (tests, migrations). */
  saveRefreshToken (token: RefreshTokenRecord): Promise<void>
  findRefreshToken (tokenHash: string): Promise<RefreshTokenRecord | undefined>
  /** Single use: exactly one caller wins; a loser learns the token was used before (reuse), and by whom (`usedBy`, a random stamp). */
  markRefreshTokenUsed (tokenHash: string, now: number, usedBy: string): Promise<ConsumeResult<RefreshTokenRecord>>
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
