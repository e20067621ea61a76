// The DynamoDB client every store and script uses: small retries that fit inside the store's deadline,
// socket timeouts, and dummy credentials for a loopback endpoint.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { isLoopbackHost } from '../loopback.ts'

export interface DynamoClientOptions {
  region: string
  endpoint?: string | undefined
  /** Socket-level timeouts; the per-call deadline in DynamoTable is the real bound. */
  timeoutMs?: number
  /** Small on purpose: a retry must fit inside the caller's deadline. */
  maxAttempts?: number
}

/** The embedded emulator or DynamoDB Local on this machine: any 127/8 address counts, as for the OS. */
export function isLoopbackEndpoint (endpoint: string): boolean {
  const host = new URL(endpoint).hostname
  return isLoopbackHost(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
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
