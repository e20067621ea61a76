// The DynamoDB adapter: the only implementation of the Store, DatasetStore and StreamEventStore ports, one object over
// the record models in ./models/ (one per port), which share the generic table access in ./dynamo-table.ts.
// Every single-use transition is one conditional write (no read-modify-write, no transactions), and
// every read treats an item whose `expiresAt` has passed as absent, because DynamoDB's TTL deletes lazily.
import type { DatasetRecord, DatasetStore } from '../ports/dataset.ts'
import type { AuthorizationCodeRecord, AuthorizationTransaction, ClientRecord, ConsentRecord, GrantRecord, RefreshTokenRecord } from '../ports/records.ts'
import type { AdminStore, CodeRedemption, ConsumeResult, RefreshRotation, Store } from '../ports/store.ts'
import type { StreamEventRecord, StreamEventStore } from '../ports/stream-events.ts'
import { DynamoTable, type DynamoTableOptions } from './dynamo-table.ts'
import { DynamoClientStore } from './models/clients.ts'
import { DynamoCodeStore } from './models/codes.ts'
import { DynamoConsentStore } from './models/consents.ts'
import { DynamoDatasetStore } from './models/dataset.ts'
import { DynamoGrantStore } from './models/grants.ts'
import { DynamoRefreshTokenStore } from './models/refresh-tokens.ts'
import { DynamoStreamEventStore } from './models/stream-events.ts'
import { DynamoTransactionStore } from './models/transactions.ts'

export type DynamoStoreOptions = DynamoTableOptions

export class DynamoStore implements Store, DatasetStore, StreamEventStore, AdminStore {
  readonly #table: DynamoTable
  readonly #clients: DynamoClientStore
  readonly #transactions: DynamoTransactionStore
  readonly #codes: DynamoCodeStore
  readonly #grants: DynamoGrantStore
  readonly #refreshTokens: DynamoRefreshTokenStore
  readonly #consents: DynamoConsentStore
  readonly #dataset: DynamoDatasetStore
  readonly #streamEvents: DynamoStreamEventStore

  constructor (options: DynamoStoreOptions) {
    const table = this.#table = new DynamoTable(options)
    this.#clients = new DynamoClientStore(table)
    this.#transactions = new DynamoTransactionStore(table)
    this.#codes = new DynamoCodeStore(table)
    this.#grants = new DynamoGrantStore(table)
    this.#refreshTokens = new DynamoRefreshTokenStore(table)
    this.#consents = new DynamoConsentStore(table)
    this.#dataset = new DynamoDatasetStore(table)
    this.#streamEvents = new DynamoStreamEventStore(table)
  }

  get table (): string { return this.#table.name }

  saveClient (client: ClientRecord): Promise<void> { return this.#clients.saveClient(client) }
  findClient (clientId: string): Promise<ClientRecord | undefined> { return this.#clients.findClient(clientId) }
  extendClient (clientId: string, expiresAt: number): Promise<void> { return this.#clients.extendClient(clientId, expiresAt) }
  listClients (): Promise<ClientRecord[]> { return this.#clients.listClients() }
  deleteClient (clientId: string): Promise<void> { return this.#clients.deleteClient(clientId) }
  pruneExpiredClients (): Promise<string[]> { return this.#clients.pruneExpiredClients() }

  saveTransaction (tx: AuthorizationTransaction): Promise<void> { return this.#transactions.saveTransaction(tx) }
  findTransaction (id: string): Promise<AuthorizationTransaction | undefined> { return this.#transactions.findTransaction(id) }
  markTransactionApproved (id: string, upstream: NonNullable<AuthorizationTransaction['upstream']>): Promise<ConsumeResult<AuthorizationTransaction>> { return this.#transactions.markTransactionApproved(id, upstream) }
  consumeTransaction (id: string): Promise<AuthorizationTransaction | undefined> { return this.#transactions.consumeTransaction(id) }

  saveCode (code: AuthorizationCodeRecord): Promise<void> { return this.#codes.saveCode(code) }
  findCode (codeHash: string): Promise<AuthorizationCodeRecord | undefined> { return this.#codes.findCode(codeHash) }
  consumeCode (codeHash: string, expected: CodeRedemption, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>> { return this.#codes.consumeCode(codeHash, expected, now) }
  releaseCode (codeHash: string, consumedBy: string): Promise<void> { return this.#codes.releaseCode(codeHash, consumedBy) }

  saveGrant (grant: GrantRecord): Promise<void> { return this.#grants.saveGrant(grant) }
  findGrant (grantId: string): Promise<GrantRecord | undefined> { return this.#grants.findGrant(grantId) }
  revokeGrant (grantId: string, now: number): Promise<boolean> { return this.#grants.revokeGrant(grantId, now) }
  rotateRefreshToken (grantId: string, presentedHash: string | undefined, rotation: RefreshRotation, now: number): Promise<ConsumeResult<GrantRecord>> { return this.#grants.rotateRefreshToken(grantId, presentedHash, rotation, now) }
  listGrantsByUser (sub: string): Promise<GrantRecord[]> { return this.#grants.listGrantsByUser(sub) }
  listGrantsByClient (clientId: string): Promise<GrantRecord[]> { return this.#grants.listGrantsByClient(clientId) }

  saveRefreshToken (token: RefreshTokenRecord): Promise<void> { return this.#refreshTokens.saveRefreshToken(token) }
  findRefreshToken (tokenHash: string): Promise<RefreshTokenRecord | undefined> { return this.#refreshTokens.findRefreshToken(tokenHash) }
  markRefreshTokenUsed (tokenHash: string, now: number, usedBy: string): Promise<ConsumeResult<RefreshTokenRecord>> { return this.#refreshTokens.markRefreshTokenUsed(tokenHash, now, usedBy) }

  saveConsent (consent: ConsentRecord): Promise<void> { return this.#consents.saveConsent(consent) }
  findConsent (sub: string, clientId: string): Promise<ConsentRecord | undefined> { return this.#consents.findConsent(sub, clientId) }

  putDatasetRecord (record: DatasetRecord): Promise<void> { return this.#dataset.putDatasetRecord(record) }
  listDatasetRecords (): Promise<DatasetRecord[]> { return this.#dataset.listDatasetRecords() }

  saveStreamEvent (event: StreamEventRecord): Promise<void> { return this.#streamEvents.saveStreamEvent(event) }
  listStreamEvents (streamId: string, fromSeq: number, limit: number): Promise<StreamEventRecord[]> { return this.#streamEvents.listStreamEvents(streamId, fromSeq, limit) }
  extendStreamEvent (streamId: string, seq: number, expiresAt: number): Promise<boolean> { return this.#streamEvents.extendStreamEvent(streamId, seq, expiresAt) }

  /** Cheap reachability check for /healthz. */
  ping (): Promise<void> { return this.#table.ping() }
}
