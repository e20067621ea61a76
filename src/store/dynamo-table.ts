// Generic access to gatehouse's one DynamoDB table, shared by the record models in ./models/: every call
// under a hard deadline, the client's errors (the SDK's or the JSON client's, named alike) turned into the
// port's errors, records encoded to items and back, and expired items read as absent (DynamoDB's TTL deletes
// lazily). No record type is known here.
import type {
  AttributeValue, DeleteItemCommandOutput, DescribeTableCommandOutput, DynamoDBClient, GetItemCommandOutput, PutItemCommandOutput,
  QueryCommandInput, QueryCommandOutput, ScanCommandInput, UpdateItemCommandOutput
} from '@aws-sdk/client-dynamodb'
import type { Clock } from '../ports/clock.ts'
import { StoreConflictError, StoreUnavailableError, type ConsumeResult } from '../ports/store.ts'
import { isConditionFailed, toStoreError } from './errors.ts'
import { USER_INDEX, type ItemKey, type Kind } from './keys.ts'
import { fromItem, toAttribute, toItem, type Item } from './marshal.ts'

/**
 * The DynamoDB operations the table sends, by name with the API's input and output: the JSON client
 * (src/aws/json-client.ts, in Lambda: no SDK client to load at a cold start) or an SDK client (`sdkDynamoApi`).
 */
export interface DynamoApi {
  send<O>(operation: DynamoOperation, input: object, options: { abortSignal?: AbortSignal }): Promise<O>
}

export type DynamoOperation = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan' | 'DescribeTable'

/** An SDK client as a DynamoApi. Whoever holds one has loaded the SDK already, so its commands cost nothing more. */
export function sdkDynamoApi (client: DynamoDBClient): DynamoApi {
  return {
    async send<O>(operation: DynamoOperation, input: object, options: { abortSignal?: AbortSignal }): Promise<O> {
      const commands = await import('@aws-sdk/client-dynamodb') as unknown as Record<`${DynamoOperation}Command`, new (input: object) => Parameters<DynamoDBClient['send']>[0]>
      return await client.send(new commands[`${operation}Command`](input), options) as O
    }
  }
}

export interface DynamoTableOptions {
  /** An SDK client (local runs, the CLI, tests) or a DynamoApi (the Lambda's JSON client). */
  client: DynamoDBClient | DynamoApi
  table: string
  clock: Clock
  /** Upper bound on every store call, retries included. */
  timeoutMs: number
}

/** A conditional write that lost: an expected outcome, not an error. */
export const CONDITION_FAILED: unique symbol = Symbol('condition failed')
export type ConditionFailed = typeof CONDITION_FAILED

// An item with no expiresAt never expires (clients); DynamoDB's TTL ignores it too.
const LIVE = '(attribute_not_exists(expiresAt) OR expiresAt > :now)'
/** For conditions: the item exists and has not expired. Binds `:now`, which `live()` supplies. */
export const EXISTS_AND_LIVE = `attribute_exists(pk) AND ${LIVE}`

/** Attributes the table adds to every item; they are not part of any record. */
const KEY_ATTRIBUTES = ['pk', 'sk', 'kind', USER_INDEX.pk, USER_INDEX.sk]

export interface UpdateOptions {
  update: string
  condition: string
  values: Record<string, AttributeValue>
  /** `#name` placeholders, for attribute names DynamoDB reserves. */
  names?: Record<string, string>
}

export class DynamoTable {
  readonly #client: DynamoApi
  readonly #table: string
  readonly #clock: Clock
  readonly #timeoutMs: number

  constructor (options: DynamoTableOptions) {
    this.#client = 'middlewareStack' in options.client ? sdkDynamoApi(options.client) : options.client
    this.#table = options.table
    this.#clock = options.clock
    this.#timeoutMs = options.timeoutMs
  }

  get name (): string { return this.#table }

  /** `:now` for a condition that tests liveness (EXISTS_AND_LIVE), from the table's clock. */
  live (): Record<string, AttributeValue> {
    return { ':now': num(this.#clock.now()) }
  }

  /** Strongly consistent: every find guards a security decision or follows a write in the same flow. */
  async find<T> (key: ItemKey): Promise<T | undefined> {
    const out = await this.call('GetItem', signal => this.#client.send<GetItemCommandOutput>('GetItem', {
      TableName: this.#table,
      Key: keyItem(key),
      ConsistentRead: true
    }, { abortSignal: signal }))
    if (out.Item === undefined) return undefined
    const record = decode(out.Item)
    return this.#isExpired(record) ? undefined : record as T
  }

  /** Create-only: a random id never collides, so an existing item means a bug or a replay; refuse to overwrite (it could erase consumedAt, usedAt or revokedAt). */
  async create (kind: Kind, key: ItemKey, record: object, conflict = `${kind} ${key.pk} already exists`): Promise<void> {
    const result = await this.write(`PutItem ${kind}`, signal => this.#client.send<PutItemCommandOutput>('PutItem', {
      TableName: this.#table,
      Item: encode(kind, key, record),
      ConditionExpression: 'attribute_not_exists(pk)'
    }, { abortSignal: signal }))
    if (result === CONDITION_FAILED) throw new StoreConflictError(conflict)
  }

  /** Overwrites whatever item has this key. */
  async replace (kind: Kind, key: ItemKey, record: object): Promise<void> {
    const item = encode(kind, key, record)
    await this.call(`PutItem ${kind}`, signal => this.#client.send<PutItemCommandOutput>('PutItem', { TableName: this.#table, Item: item }, { abortSignal: signal }))
  }

  /** A conditional update; the item as it is after the update, or CONDITION_FAILED. */
  async update (operation: string, key: ItemKey, options: UpdateOptions): Promise<Record<string, unknown> | ConditionFailed> {
    const result = await this.write(operation, signal => this.#client.send<UpdateItemCommandOutput>('UpdateItem', {
      TableName: this.#table,
      Key: keyItem(key),
      UpdateExpression: options.update,
      ConditionExpression: options.condition,
      ExpressionAttributeValues: options.values,
      ...(options.names === undefined ? {} : { ExpressionAttributeNames: options.names }),
      ReturnValues: 'ALL_NEW'
    }, { abortSignal: signal }))
    return result === CONDITION_FAILED ? CONDITION_FAILED : decode(result.Attributes ?? {})
  }

  /**
   * A single-use transition: the winner gets the updated record; a loser gets the record as it now is
   * (if it still exists and is live), so it can tell "already used" from "unknown".
   */
  async transition<T> (operation: string, key: ItemKey, options: UpdateOptions): Promise<ConsumeResult<T>> {
    const result = await this.update(operation, key, options)
    if (result !== CONDITION_FAILED) return { won: true, record: result as T }
    const record = await this.find<T>(key)
    return record === undefined ? { won: false } : { won: false, record }
  }

  /** Deletes the item if it exists and is live, and returns it; undefined otherwise. */
  async take<T> (operation: string, key: ItemKey): Promise<T | undefined> {
    const result = await this.write(operation, signal => this.#client.send<DeleteItemCommandOutput>('DeleteItem', {
      TableName: this.#table,
      Key: keyItem(key),
      ConditionExpression: EXISTS_AND_LIVE,
      ExpressionAttributeValues: this.live(),
      ReturnValues: 'ALL_OLD'
    }, { abortSignal: signal }))
    if (result === CONDITION_FAILED || result.Attributes === undefined) return undefined
    return decode(result.Attributes) as T
  }

  /**
   * Every item of a partition whose sort key starts with `prefix`, in sort-key order, all pages, strongly
   * consistent. Records with an expiry (`withExpiry`) are read as every read does: expired ones as absent.
   */
  async queryPrefix<T> (operation: string, pk: string, prefix: string, options: { withExpiry: boolean }): Promise<T[]> {
    const items = await this.#allPages(operation, 'Query', start => ({
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
      ConsistentRead: true,
      ...start
    }))
    const records = items.map(item => decode(item, options.withExpiry))
    return (options.withExpiry ? records.filter(record => !this.#isExpired(record)) : records) as T[]
  }

  /**
   * One page of a partition's items with `from ≤ sk ≤ to`, at most `limit` of them, in sort-key order, strongly
   * consistent, expired ones left out: a bounded read for a caller that continues after the last item itself.
   */
  async queryRange<T> (operation: string, pk: string, range: { from: string, to: string }, limit: number): Promise<T[]> {
    const page = await this.call(operation, signal => this.#client.send<QueryCommandOutput>('Query', {
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: range.from }, ':to': { S: range.to } },
      ConsistentRead: true,
      Limit: limit
    }, { abortSignal: signal }))
    return (page.Items ?? []).map(item => decode(item)).filter(record => !this.#isExpired(record)) as T[]
  }

  /**
   * Every live item of one partition of the user index, all pages. A global secondary index is only
   * eventually consistent: an item written a moment ago may be missing (lists for people, never a security check).
   */
  async queryUserIndex<T> (operation: string, partition: string): Promise<T[]> {
    const items = await this.#allPages(operation, 'Query', start => ({
      TableName: this.#table,
      IndexName: USER_INDEX.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': USER_INDEX.pk },
      ExpressionAttributeValues: { ':pk': { S: partition } },
      ...start
    }))
    return items.map(item => decode(item)).filter(record => !this.#isExpired(record)) as T[]
  }

  /**
   * Every item of one kind, all pages (a full table Scan: for the admin command, never a request path).
   * `expired`: 'skip' (as every read does) or 'only' (what prune removes).
   */
  async scanKind<T> (operation: string, kind: Kind, options: { expired: 'skip' | 'only', filter?: string, values?: Record<string, AttributeValue> }): Promise<T[]> {
    const items = await this.#allPages(operation, 'Scan', start => ({
      TableName: this.#table,
      FilterExpression: `#kind = :kind${options.filter === undefined ? '' : ` AND ${options.filter}`}`,
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: { ':kind': { S: kind }, ...options.values },
      ConsistentRead: true,
      ...start
    }))
    return items.map(item => decode(item)).filter(record => this.#isExpired(record) === (options.expired === 'only')) as T[]
  }

  /** Follows LastEvaluatedKey until the last page; each page is one bounded store call. */
  async #allPages (operation: string, kind: 'Query' | 'Scan', input: (start: { ExclusiveStartKey?: Item }) => QueryCommandInput | ScanCommandInput): Promise<Item[]> {
    const items: Item[] = []
    let start: Item | undefined
    do {
      const next = input(start === undefined ? {} : { ExclusiveStartKey: start })
      const page = await this.call(operation, signal => this.#client.send<QueryCommandOutput>(kind, next, { abortSignal: signal }))
      items.push(...(page.Items ?? []))
      start = page.LastEvaluatedKey
    } while (start !== undefined)
    return items
  }

  /** Deletes the item when `condition` holds; false when it did not (or the item is gone). */
  async remove (operation: string, key: ItemKey, condition: string, values: Record<string, AttributeValue> = {}): Promise<boolean> {
    const result = await this.write(operation, signal => this.#client.send<DeleteItemCommandOutput>('DeleteItem', {
      TableName: this.#table,
      Key: keyItem(key),
      ConditionExpression: condition,
      ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values })
    }, { abortSignal: signal }))
    return result !== CONDITION_FAILED
  }

  /** DescribeTable, bounded by the timeout: proves the endpoint, the credentials and the table. */
  async ping (): Promise<void> {
    const out = await this.call('DescribeTable', signal => this.#client.send<DescribeTableCommandOutput>('DescribeTable', { TableName: this.#table }, { abortSignal: signal }))
    const status = out.Table?.TableStatus
    if (status !== 'ACTIVE' && status !== 'UPDATING') throw new StoreUnavailableError(`table ${this.#table} is ${status ?? 'unknown'}`)
  }

  #isExpired (record: Record<string, unknown>): boolean {
    const expiresAt = record.expiresAt
    return typeof expiresAt === 'number' && expiresAt > 0 && expiresAt <= this.#clock.now()
  }

  /** Like call(), but a failed condition is an expected outcome, not an error. */
  async write<O> (operation: string, run: (signal: AbortSignal) => Promise<O>): Promise<O | ConditionFailed> {
    try {
      return await this.call(operation, run)
    } catch (err) {
      if (isConditionFailed(err)) return CONDITION_FAILED
      throw err
    }
  }

  /**
   * One DynamoDB call under a hard deadline. The abort signal cancels the HTTP request (retries included);
   * the race also covers stages the signal does not reach, such as credential resolution.
   */
  async call<O> (operation: string, run: (signal: AbortSignal) => Promise<O>): Promise<O> {
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

export function keyItem (key: ItemKey): Item {
  return { pk: { S: key.pk }, sk: { S: key.sk } }
}

export function num (value: number): AttributeValue {
  return { N: String(value) }
}

/** A required value as an attribute (for update expressions). */
export function attr (value: unknown): AttributeValue {
  const attribute = toAttribute(value)
  if (attribute === undefined) throw new TypeError('value is required')
  return attribute
}

function encode (kind: Kind, key: ItemKey, record: object): Item {
  const item = toItem(record as Record<string, unknown>)
  // expiresAt 0 means "never": writing 0 would be a TTL in 1970, so the attribute is left out.
  const expiresAt = (record as { expiresAt?: unknown }).expiresAt
  if (typeof expiresAt !== 'number' || expiresAt <= 0) delete item.expiresAt
  return { ...item, pk: { S: key.pk }, sk: { S: key.sk }, kind: { S: kind } }
}

/** `withExpiry`: the record type has an expiresAt field (every record but dataset rows). */
function decode (item: Item, withExpiry = true): Record<string, unknown> {
  const record = fromItem(item)
  for (const name of KEY_ATTRIBUTES) delete record[name]
  if (withExpiry && record.expiresAt === undefined) record.expiresAt = 0
  return record
}
