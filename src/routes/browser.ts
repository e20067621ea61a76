// What the browser routes (/authorize, consent, /callback, /account) share: errors as HTML pages, a
// per-address limit (each writes or consumes a store item), and redirects that are never cached or referred.
import type { FastifyReply } from 'fastify'
import { perAddressLimit } from '../plugins/rate-limits.ts'

export const html = (perMinute: number) => ({ config: { errorFormat: 'html', ...perAddressLimit(perMinute) } as const })

export function redirect (reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(location, 303)
}
