// Table bootstrap for the embedded emulator and for DynamoDB Local / LocalStack. In real AWS the
// table is Terraform's (infra/modules/storage) and this is never called.
import {
  CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, UpdateTimeToLiveCommand, type DynamoDBClient
} from '@aws-sdk/client-dynamodb'

export const TTL_ATTRIBUTE = 'expiresAt'

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
  let status = await tableStatus(client, table)
  if (status === undefined) {
    try {
      await client.send(new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }]
      }))
      created = true
    } catch (err) {
      // Another process (a parallel test, a second instance) created it first: that is fine.
      if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err
    }
    status = await tableStatus(client, table)
  }
  const deadline = Date.now() + (options.waitMs ?? 30_000)
  while (status !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${table} did not become ACTIVE (status ${status ?? 'missing'})`)
    await new Promise(resolve => setTimeout(resolve, 50))
    status = await tableStatus(client, table)
  }
  return { created, ttl: await enableTtl(client, table) }
}

async function tableStatus (client: DynamoDBClient, table: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: table }))
    return out.Table?.TableStatus ?? 'UNKNOWN'
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
