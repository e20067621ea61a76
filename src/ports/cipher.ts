// Sealing secrets at rest, and the failures of the key services behind it (src/crypto).
// Callers must tell two failures apart: a sealed value that can never be opened (tampered, wrong context,
// wrong key: treat the record as unusable) and a key service that failed this time (answer 503, retry later).

/** Seals secrets at rest (upstream tokens). AES-256-GCM; KMS envelope on AWS, a local key in development. */
export interface Cipher {
  /** `context` is bound as additional authenticated data (e.g. the grant or code it belongs to). */
  seal (plaintext: string, context: string): Promise<string>
  open (sealed: string, context: string): Promise<string>
}

/** The sealed value is malformed, was tampered with, or belongs to another context or key. Never retry. */
export class SealedValueError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'SealedValueError' }
}

/** KMS, Secrets Manager or SSM failed or refused; the value itself may be fine. */
export class KeyServiceError extends Error {
  constructor (message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'KeyServiceError' }
}
