// Table bootstrap for the embedded emulator and for DynamoDB Local / LocalStack. In real AWS the
// table is Terraform's (infra/modules/storage) and this is never called.
import { USER_INDEX } from './keys.ts'
import {
  CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, UpdateTableCommand, UpdateTimeToLiveCommand, type DynamoDBClient, type TableDescription
} from '@aws-sdk/client-dynamodb'

export const TTL_ATTRIBUTE = 'expiresAt'

const KEY_DEFINITIONS = [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }] as const
const USER_INDEX_DEFINITIONS = [{ AttributeName: USER_INDEX.pk, AttributeType: 'S' }, { AttributeName: USER_INDEX.sk, AttributeType: 'S' }] as const
/** The same index as infra/modules/storage: a user's grants (docs/storage-schema.md). */
const USER_INDEX_SPEC = {
  IndexName: USER_INDEX.name,
  KeySchema: [{ AttributeName: USER_INDEX.pk, KeyType: 'HASH' as const }, { AttributeName: USER_INDEX.sk, KeyType: 'RANGE' as const }],
  Projection: { ProjectionType: 'ALL' as const }
}

export interface EnsureTableOptions {
  /** How long to wait for the table to become ACTIVE. */
  waitMs?: number
}

export interface EnsureTableResult {
  created: boolean
  /** `unsupported`: the emulator has no TTL (dynalite); reads still hide expired items. */
  ttl: 'enabled' | 'unsupported'
}

export async function ensureTable (client: DynamoDBClient, table: string, options: EnsureTableOptions = {}): Promise<EnsureTableResult> {
  let created = false
  const existing = await describeTable(client, table)
  let status = existing === undefined ? undefined : existing.TableStatus ?? 'UNKNOWN'
  if (existing === undefined) {
    try {
      await client.send(new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...KEY_DEFINITIONS, ...USER_INDEX_DEFINITIONS],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        GlobalSecondaryIndexes: [USER_INDEX_SPEC]
      }))
      created = true
    } catch (err) {
      // Another process (a parallel test, a second instance) created it first: that is fine.
      if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err
    }
    status = await tableStatus(client, table)
  } else {
    await addUserIndex(client, table, existing)
  }
  const deadline = Date.now() + (options.waitMs ?? 30_000)
  while (status !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${table} did not become ACTIVE (status ${status ?? 'missing'})`)
    await new Promise(resolve => setTimeout(resolve, 50))
    status = await tableStatus(client, table)
  }
  return { created, ttl: await enableTtl(client, table) }
}

/**
 * A table made before the user index existed gets it where the emulator can add one (DynamoDB Local,
 * LocalStack). dynalite cannot: listing a user's grants then fails until its data dir is removed.
 */
async function addUserIndex (client: DynamoDBClient, table: string, described: TableDescription): Promise<void> {
  if ((described.GlobalSecondaryIndexes ?? []).some(index => index.IndexName === USER_INDEX.name)) return
  await client.send(new UpdateTableCommand({
    TableName: table,
    AttributeDefinitions: [...USER_INDEX_DEFINITIONS],
    GlobalSecondaryIndexUpdates: [{ Create: USER_INDEX_SPEC }]
  })).catch(() => undefined)
}

async function tableStatus (client: DynamoDBClient, table: string): Promise<string | undefined> {
  const described = await describeTable(client, table)
  return described === undefined ? undefined : described.TableStatus ?? 'UNKNOWN'
}

/** The table's description (status and indexes); undefined when it does not exist. */
async function describeTable (client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: table }))
    return out.Table ?? {}
  } catch (err) {
    if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined
    throw err
  }
}

async function enableTtl (client: DynamoDBClient, table: string): Promise<EnsureTableResult['ttl']> {
  try {
    const current = await client.send(new DescribeTimeToLiveCommand({ TableName: table }))
    const ttl = current.TimeToLiveDescription
    if ((ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') && ttl.AttributeName === TTL_ATTRIBUTE) return 'enabled'
    await client.send(new UpdateTimeToLiveCommand({
      TableName: table,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true }
    }))
    return 'enabled'
  } catch (err) {
    // dynalite answers UnknownOperationException; some emulators answer other 4xx for a missing feature.
    if (err instanceof Error && /UnknownOperation|NotImplemented|UnsupportedOperation/i.test(err.name)) return 'unsupported'
    throw err
  }
}
