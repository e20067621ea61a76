// RFC 7636 with OAuth 2.1's rules: S256 only (plain is refused), verifier 43–128 unreserved characters.
import { createHash } from 'node:crypto'
import { InvalidGrantError, InvalidRequestError } from './errors.ts'

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** base64url(SHA-256(...)) is always 43 characters. */
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/

export function validateCodeChallenge (challenge: string | undefined, method: string | undefined): string {
  if (challenge === undefined || challenge === '') throw new InvalidRequestError('code_challenge is required (PKCE)')
  if (method === undefined || method === '') throw new InvalidRequestError('code_challenge_method is required and must be S256')
  if (method !== 'S256') throw new InvalidRequestError('code_challenge_method must be S256')
  if (!CHALLENGE.test(challenge)) throw new InvalidRequestError('code_challenge is not a base64url SHA-256 value')
  return challenge
}

/** RFC 7636 §4.1: 43–128 characters, each unreserved (so ASCII, which s256 hashes). */
export function isWellFormedVerifier (verifier: string): boolean {
  return VERIFIER.test(verifier)
}

export function s256 (verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

export function verifyCodeVerifier (verifier: string | undefined, challenge: string): void {
  if (verifier === undefined || verifier === '') throw new InvalidRequestError('code_verifier is required')
  if (!isWellFormedVerifier(verifier)) throw new InvalidGrantError('code_verifier does not match the code challenge', 'malformed verifier')
  if (s256(verifier) !== challenge) throw new InvalidGrantError('code_verifier does not match the code challenge')
}
