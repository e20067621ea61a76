// The DynamoDB adapter: the only implementation of the Store and DatasetStore ports.
// Every single-use transition is one conditional write (no read-modify-write, no transactions), and
// every read treats an item whose `expiresAt` has passed as absent, because DynamoDB's TTL deletes lazily.
import {
  DeleteItemCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand,
  UpdateItemCommand, type AttributeValue
} from '@aws-sdk/client-dynamodb'
import type { DatasetRecord, DatasetStore } from '../ports/dataset.ts'
import type { Clock } from '../ports/clock.ts'
import type { AuthorizationCodeRecord, AuthorizationTransaction, ClientRecord, ConsentRecord, GrantRecord, RefreshTokenRecord } from '../ports/records.ts'
import { StoreConflictError, StoreUnavailableError, type ConsumeResult, type Store } from '../ports/store.ts'
import { isConditionFailed, toStoreError } from './errors.ts'
import {
  KIND, clientKey, codeKey, consentKey, datasetPartition, datasetRowKey, grantKey, refreshTokenKey, transactionKey,
  DATASET_ROW_PREFIX, type ItemKey, type Kind
} from './keys.ts'
import { fromItem, toAttribute, toItem, type Item } from './marshal.ts'

export interface DynamoStoreOptions {
  client: DynamoDBClient
  table: string
  clock: Clock
  /** Upper bound on every store call, retries included. */
  timeoutMs: number
}

export interface DynamoClientOptions {
  region: string
  endpoint?: string | undefined
  /** Socket-level timeouts; the per-call deadline in DynamoStore is the real bound. */
  timeoutMs?: number
  /** Small on purpose: a retry must fit inside the caller's deadline. */
  maxAttempts?: number
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

export function isLoopbackEndpoint (endpoint: string): boolean {
  const host = new URL(endpoint).hostname
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * A DynamoDB client with small retries and socket timeouts. A loopback endpoint (the embedded
 * emulator, DynamoDB Local) gets dummy static credentials so no AWS credential chain is consulted.
 */
export function createDynamoClient (options: DynamoClientOptions): DynamoDBClient {
  const timeoutMs = options.timeoutMs ?? 3000
  return new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? 2,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.endpoint !== undefined && isLoopbackEndpoint(options.endpoint)
      ? { credentials: { accessKeyId: 'gatehouse-local', secretAccessKey: 'gatehouse-local' } }
      : {})
  })
}

const CONDITION_FAILED: unique symbol = Symbol('condition failed')

// An item with no expiresAt never expires (clients); DynamoDB's TTL ignores it too.
const LIVE = '(attribute_not_exists(expiresAt) OR expiresAt > :now)'
const EXISTS_AND_LIVE = `attribute_exists(pk) AND ${LIVE}`

/** Attributes the adapter adds to every item; they are not part of any record. */
const KEY_ATTRIBUTES = ['pk', 'sk', 'kind']

export class DynamoStore implements Store, DatasetStore {
  readonly #client: DynamoDBClient
  readonly #table: string
  readonly #clock: Clock
  readonly #timeoutMs: number

  constructor (options: DynamoStoreOptions) {
    this.#client = options.client
    this.#table = options.table
    this.#clock = options.clock
    this.#timeoutMs = options.timeoutMs
  }

  static createClient (options: DynamoClientOptions): DynamoDBClient {
    return createDynamoClient(options)
  }

  get table (): string { return this.#table }

  // ── clients ────────────────────────────────────────────────────────────────

  async saveClient (client: ClientRecord): Promise<void> {
    const result = await this.#putNew('PutItem client', this.#encode(KIND.client, clientKey(client.clientId), client))
    if (result === CONDITION_FAILED) throw new StoreConflictError(`client ${client.clientId} already exists`)
  }

  async findClient (clientId: string): Promise<ClientRecord | undefined> {
    return await this.#find<ClientRecord>(clientKey(clientId))
  }

  // ── pending authorization transactions ───────────────────────────────────────

  async saveTransaction (tx: AuthorizationTransaction): Promise<void> {
    await this.#create(KIND.transaction, transactionKey(tx.id), tx)
  }

  async findTransaction (id: string): Promise<AuthorizationTransaction | undefined> {
    return await this.#find<AuthorizationTransaction>(transactionKey(id))
  }

  async markTransactionApproved (id: string, upstream: NonNullable<AuthorizationTransaction['upstream']>): Promise<ConsumeResult<AuthorizationTransaction>> {
    const key = transactionKey(id)
    const result = await this.#write('UpdateItem transaction', signal => this.#client.send(new UpdateItemCommand({
      TableName: this.#table,
      Key: keyItem(key),
      UpdateExpression: 'SET upstream = :upstream',
      ConditionExpression: `${EXISTS_AND_LIVE} AND attribute_not_exists(upstream)`,
      ExpressionAttributeValues: { ':upstream': attr(upstream), ':now': num(this.#clock.now()) },
      ReturnValues: 'ALL_NEW'
    }), { abortSignal: signal }))
    if (result !== CONDITION_FAILED) return { won: true, record: this.#decode(result.Attributes ?? {}) as unknown as AuthorizationTransaction }
    return this.#lost(await this.#find<AuthorizationTransaction>(key))
  }

  async consumeTransaction (id: string): Promise<AuthorizationTransaction | undefined> {
    const result = await this.#write('DeleteItem transaction', signal => this.#client.send(new DeleteItemCommand({
      TableName: this.#table,
      Key: keyItem(transactionKey(id)),
      ConditionExpression: EXISTS_AND_LIVE,
      ExpressionAttributeValues: { ':now': num(this.#clock.now()) },
      ReturnValues: 'ALL_OLD'
    }), { abortSignal: signal }))
    if (result === CONDITION_FAILED || result.Attributes === undefined) return undefined
    return this.#decode(result.Attributes) as unknown as AuthorizationTransaction
  }

  // ── authorization codes ─────────────────────────────────────────────────────

  async saveCode (code: AuthorizationCodeRecord): Promise<void> {
    await this.#create(KIND.code, codeKey(code.codeHash), code)
  }

  async findCode (codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    return await this.#find<AuthorizationCodeRecord>(codeKey(codeHash))
  }

  async consumeCode (codeHash: string, grantId: string, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>> {
    const key = codeKey(codeHash)
    const result = await this.#write('UpdateItem code', signal => this.#client.send(new UpdateItemCommand({
      TableName: this.#table,
      Key: keyItem(key),
      UpdateExpression: 'SET consumedAt = :now, grantId = :grantId',
      ConditionExpression: `${EXISTS_AND_LIVE} AND attribute_not_exists(consumedAt)`,
      ExpressionAttributeValues: { ':now': num(now), ':grantId': { S: grantId } },
      ReturnValues: 'ALL_NEW'
    }), { abortSignal: signal }))
    if (result !== CONDITION_FAILED) return { won: true, record: this.#decode(result.Attributes ?? {}) as unknown as AuthorizationCodeRecord }
    // The loser reads the winner's grantId so the caller can revoke what the first redemption produced.
    return this.#lost(await this.#find<AuthorizationCodeRecord>(key))
  }

  // ── grants ─────────────────────────────────────────────────────────────────

  async saveGrant (grant: GrantRecord): Promise<void> {
    await this.#create(KIND.grant, grantKey(grant.grantId), grant)
  }

  /** Revoked grants are returned too (with revokedAt): the caller decides what revocation means. */
  async findGrant (grantId: string): Promise<GrantRecord | undefined> {
    return await this.#find<GrantRecord>(grantKey(grantId))
  }

  async revokeGrant (grantId: string, now: number): Promise<void> {
    // if_not_exists keeps the first revocation time; the record stays until its TTL so that
    // introspection and reuse detection keep seeing "revoked" rather than "unknown".
    await this.#write('UpdateItem grant revoke', signal => this.#client.send(new UpdateItemCommand({
      TableName: this.#table,
      Key: keyItem(grantKey(grantId)),
      UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :now)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':now': num(now) }
    }), { abortSignal: signal }))
    // A missing grant is already as revoked as it can be: nothing to do.
  }

  async updateGrantUpstream (grantId: string, upstreamSealed: string, upstreamExpiresAt: number | undefined): Promise<boolean> {
    const values: Record<string, AttributeValue> = { ':sealed': { S: upstreamSealed }, ':now': num(this.#clock.now()) }
    let update = 'SET upstreamSealed = :sealed'
    if (upstreamExpiresAt === undefined) {
      update += ' REMOVE upstreamExpiresAt'
    } else {
      update += ', upstreamExpiresAt = :upstreamExpiresAt'
      values[':upstreamExpiresAt'] = num(upstreamExpiresAt)
    }
    const result = await this.#write('UpdateItem grant upstream', signal => this.#client.send(new UpdateItemCommand({
      TableName: this.#table,
      Key: keyItem(grantKey(grantId)),
      UpdateExpression: update,
      ConditionExpression: `${EXISTS_AND_LIVE} AND attribute_not_exists(revokedAt)`,
      ExpressionAttributeValues: values
    }), { abortSignal: signal }))
    return result !== CONDITION_FAILED
  }

  // ── refresh tokens ──────────────────────────────────────────────────────────

  async saveRefreshToken (token: RefreshTokenRecord): Promise<void> {
    await this.#create(KIND.refreshToken, refreshTokenKey(token.tokenHash), token)
  }

  async findRefreshToken (tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return await this.#find<RefreshTokenRecord>(refreshTokenKey(tokenHash))
  }

  async markRefreshTokenUsed (tokenHash: string, now: number): Promise<ConsumeResult<RefreshTokenRecord>> {
    const key = refreshTokenKey(tokenHash)
    const result = await this.#write('UpdateItem refresh token', signal => this.#client.send(new UpdateItemCommand({
      TableName: this.#table,
      Key: keyItem(key),
      UpdateExpression: 'SET usedAt = :now',
      ConditionExpression: `${EXISTS_AND_LIVE} AND attribute_not_exists(usedAt)`,
      ExpressionAttributeValues: { ':now': num(now) },
      ReturnValues: 'ALL_NEW'
    }), { abortSignal: signal }))
    if (result !== CONDITION_FAILED) return { won: true, record: this.#decode(result.Attributes ?? {}) as unknown as RefreshTokenRecord }
    return this.#lost(await this.#find<RefreshTokenRecord>(key))
  }

  // ── consent ────────────────────────────────────────────────────────────────

  /** Overwrites: a newer consent for the same user and client replaces the older one. */
  async saveConsent (consent: ConsentRecord): Promise<void> {
    const item = this.#encode(KIND.consent, consentKey(consent.sub, consent.clientId), consent)
    await this.#call('PutItem consent', signal => this.#client.send(new PutItemCommand({ TableName: this.#table, Item: item }), { abortSignal: signal }))
  }

  async findConsent (sub: string, clientId: string): Promise<ConsentRecord | undefined> {
    return await this.#find<ConsentRecord>(consentKey(sub, clientId))
  }

  // ── dataset (MCP tools) ─────────────────────────────────────────────────────

  async putDatasetRecord (record: DatasetRecord): Promise<void> {
    const result = await this.#putNew('PutItem dataset record', this.#encode(KIND.datasetRecord, datasetRowKey(record.id), record))
    if (result === CONDITION_FAILED) throw new StoreConflictError(`dataset record ${record.id} already exists`)
  }

  async listDatasetRecords (): Promise<DatasetRecord[]> {
    const records: DatasetRecord[] = []
    let start: Item | undefined
    do {
      const exclusiveStartKey = start
      const page = await this.#call('Query dataset', signal => this.#client.send(new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :row)',
        ExpressionAttributeValues: { ':pk': { S: datasetPartition() }, ':row': { S: DATASET_ROW_PREFIX } },
        // A row just added by add_record must show up in the next query_data.
        ConsistentRead: true,
        ...(exclusiveStartKey === undefined ? {} : { ExclusiveStartKey: exclusiveStartKey })
      }), { abortSignal: signal }))
      for (const item of page.Items ?? []) records.push(this.#decode(item, false) as unknown as DatasetRecord)
      start = page.LastEvaluatedKey
    } while (start !== undefined)
    return records
  }

  // ── health ─────────────────────────────────────────────────────────────────

  /** DescribeTable, bounded by the timeout: proves the endpoint, the credentials and the table. */
  async ping (): Promise<void> {
    const out = await this.#call('DescribeTable', signal => this.#client.send(new DescribeTableCommand({ TableName: this.#table }), { abortSignal: signal }))
    const status = out.Table?.TableStatus
    if (status !== 'ACTIVE' && status !== 'UPDATING') throw new StoreUnavailableError(`table ${this.#table} is ${status ?? 'unknown'}`)
  }

  // ── internals ──────────────────────────────────────────────────────────────

  #encode (kind: Kind, key: ItemKey, record: object): Item {
    const item = toItem(record as Record<string, unknown>)
    // expiresAt 0 means "never": writing 0 would be a TTL in 1970, so the attribute is left out.
    const expiresAt = (record as { expiresAt?: unknown }).expiresAt
    if (typeof expiresAt !== 'number' || expiresAt <= 0) delete item.expiresAt
    return { ...item, pk: { S: key.pk }, sk: { S: key.sk }, kind: { S: kind } }
  }

  /** `withExpiry`: the record type has an expiresAt field (every record but dataset rows). */
  #decode (item: Item, withExpiry = true): Record<string, unknown> {
    const record = fromItem(item)
    for (const name of KEY_ATTRIBUTES) delete record[name]
    if (withExpiry && record.expiresAt === undefined) record.expiresAt = 0
    return record
  }

  #isExpired (record: Record<string, unknown>): boolean {
    const expiresAt = record.expiresAt
    return typeof expiresAt === 'number' && expiresAt > 0 && expiresAt <= this.#clock.now()
  }

  /** Strongly consistent: every find guards a security decision or follows a write in the same flow. */
  async #find<T> (key: ItemKey): Promise<T | undefined> {
    const out = await this.#call('GetItem', signal => this.#client.send(new GetItemCommand({
      TableName: this.#table,
      Key: keyItem(key),
      ConsistentRead: true
    }), { abortSignal: signal }))
    if (out.Item === undefined) return undefined
    const record = this.#decode(out.Item)
    return this.#isExpired(record) ? undefined : record as T
  }

  #lost<T> (record: T | undefined): ConsumeResult<T> {
    return record === undefined ? { won: false } : { won: false, record }
  }

  /** Create-only: a random id never collides, so an existing item means a bug or a replay; refuse to overwrite (it could erase consumedAt, usedAt or revokedAt). */
  async #create (kind: Kind, key: ItemKey, record: { expiresAt: number }): Promise<void> {
    const result = await this.#putNew(`PutItem ${kind}`, this.#encode(kind, key, record))
    if (result === CONDITION_FAILED) throw new StoreConflictError(`${kind} ${key.pk} already exists`)
  }

  async #putNew (operation: string, item: Item): Promise<typeof CONDITION_FAILED | undefined> {
    const result = await this.#write(operation, signal => this.#client.send(new PutItemCommand({
      TableName: this.#table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)'
    }), { abortSignal: signal }))
    return result === CONDITION_FAILED ? CONDITION_FAILED : undefined
  }

  /** Like #call, but a failed condition is an expected outcome, not an error. */
  async #write<O> (operation: string, run: (signal: AbortSignal) => Promise<O>): Promise<O | typeof CONDITION_FAILED> {
    try {
      return await this.#call(operation, run)
    } catch (err) {
      if (isConditionFailed(err)) return CONDITION_FAILED
      throw err
    }
  }

  /**
   * One SDK call under a hard deadline. The abort signal cancels the HTTP request (retries included);
   * the race also covers stages the signal does not reach, such as credential resolution.
   */
  async #call<O> (operation: string, run: (signal: AbortSignal) => Promise<O>): Promise<O> {
    const controller = new AbortController()
    let timedOut = false
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true
        controller.abort()
        reject(new StoreUnavailableError(`store ${operation} timed out after ${this.#timeoutMs} ms`))
      }, this.#timeoutMs)
    })
    const attempt = run(controller.signal)
    // The losing promise of the race must not become an unhandled rejection.
    attempt.catch(() => {})
    try {
      return await Promise.race([attempt, deadline])
    } catch (err) {
      if (isConditionFailed(err)) throw err
      throw toStoreError(err, operation, this.#timeoutMs, timedOut)
    } finally {
      clearTimeout(timer)
    }
  }
}

function keyItem (key: ItemKey): Item {
  return { pk: { S: key.pk }, sk: { S: key.sk } }
}

function num (value: number): AttributeValue {
  return { N: String(value) }
}

function attr (value: unknown): AttributeValue {
  const attribute = toAttribute(value)
  if (attribute === undefined) throw new TypeError('value is required')
  return attribute
}
