// Turns whatever the AWS SDK or src/aws/json-client.ts (same names, same $metadata) throws into the port's
// vocabulary. Callers of the store see
// StoreUnavailableError for anything operational (network, timeout, throttling, 5xx, missing table,
// credentials) and never a raw SDK error; a ValidationException is a bug in our request and stays as is.
import { StoreUnavailableError } from '../ports/store.ts'

const PROGRAMMING_ERRORS = new Set(['ValidationException', 'SerializationException'])

export function isConditionFailed (err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException'
}

export function toStoreError (err: unknown, operation: string, timeoutMs: number, timedOut: boolean): Error {
  if (err instanceof StoreUnavailableError) return err
  if (timedOut) return new StoreUnavailableError(`store ${operation} timed out after ${timeoutMs} ms`, { cause: err })
  if (err instanceof Error) {
    if (PROGRAMMING_ERRORS.has(err.name) || err instanceof TypeError || err instanceof RangeError) return err
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    const code = (err as { code?: string }).code
    const detail = [err.name, code, status].filter(v => v !== undefined && v !== '').join(' ')
    return new StoreUnavailableError(`store ${operation} failed: ${detail}: ${err.message}`, { cause: err })
  }
  return new StoreUnavailableError(`store ${operation} failed`, { cause: err })
}
