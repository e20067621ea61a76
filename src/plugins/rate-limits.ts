// Rate limit keys. The app trusts proxy headers (trustProxy), so `request.ip` is the left-most
// X-Forwarded-For entry, which the client writes itself (API Gateway appends the real address after it).
// Limits are therefore keyed on the connection's address: the peer locally, and on Lambda the API
// Gateway `sourceIp` that @fastify/aws-lambda passes as the remote address.
import type { FastifyRequest } from 'fastify'

export function clientAddressKey (request: FastifyRequest): string {
  return request.raw.socket?.remoteAddress ?? request.ip
}

/** Route config for a per-address limit of `max` requests a minute. */
export function perAddressLimit (max: number): { rateLimit: { max: number, timeWindow: string, keyGenerator: (request: FastifyRequest) => string } } {
  return { rateLimit: { max, timeWindow: '1 minute', keyGenerator: clientAddressKey } }
}
