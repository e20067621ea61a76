// Two kinds of failure callers must tell apart: a sealed value that can never be opened (tampered,
// wrong context, wrong key: treat the record as unusable) and a key service that failed this time
// (KMS throttled, unreachable or denied: answer 503 and try again later).

/** The sealed value is malformed, was tampered with, or belongs to another context or key. Never retry. */
export class SealedValueError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'SealedValueError' }
}

/** KMS, Secrets Manager or SSM failed or refused; the value itself may be fine. */
export class KeyServiceError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'KeyServiceError' }
}
