// Random values, hashing and constant-time comparison for everything secret: codes, tokens, client secrets,
// CSRF tokens. Stored forms are SHA-256 hashes; 256-bit random values make a plain (unsalted) hash sufficient.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 bits of randomness, base64url (43 chars). */
export function randomToken (bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

export function sha256 (value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url')
}

/** Constant-time equality of two strings (hash both first so lengths never leak). */
export function safeEqual (a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest()
  const hb = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(ha, hb) && a.length === b.length
}

/** Compares a presented secret with its stored hash in constant time. */
export function matchesHash (presented: string, storedHash: string): boolean {
  return safeEqual(sha256(presented), storedHash)
}
