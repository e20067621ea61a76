// Rate limit keys, from the connection's address (`request.ip`; the app trusts no proxy headers, so a
// client cannot pick its key through X-Forwarded-For): the peer locally, and on Lambda the API Gateway
// `sourceIp` that @fastify/aws-lambda passes as the remote address. IPv6 addresses are grouped by their /56
// prefix (what one subscriber is typically given), so rotating addresses within it buys nothing.
// Written here rather than @fastify/rate-limit's `ipv6Subnet: 56`: that option needs `ip-address` in the
// bundle, +8.9 KB gzip against a 350 KB budget (BENCHMARKS.md, session 4).
import { isIPv6 } from 'node:net'
import type { FastifyRequest } from 'fastify'

const IPV6_PREFIX_GROUPS = 56 / 16

/** Expands an IPv6 address to its eight 16-bit groups; undefined if it is not one. */
function ipv6Groups (address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined
  let text = address.split('%')[0] as string
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted !== null) {
    const [a, b, c, d] = (dotted[1] as string).split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string): number[] => part === '' ? [] : part.split(':').map(g => parseInt(g, 16))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

/** The rate-limit key for an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /56 prefix. */
export function addressKey (address: string): string {
  const groups = ipv6Groups(address)
  if (groups === undefined) return address.toLowerCase()
  if (groups.slice(0, 5).every(g => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  const whole = Math.floor(IPV6_PREFIX_GROUPS)
  const prefix = groups.slice(0, whole)
  prefix.push((groups[whole] as number) & (0xffff << (16 - (56 - whole * 16))) & 0xffff)
  return `${prefix.map(g => g.toString(16)).join(':')}::/56`
}

export function clientAddressKey (request: FastifyRequest): string {
  return addressKey(request.ip)
}

/** Route config for a per-address limit of `max` requests a minute. */
export function perAddressLimit (max: number): { rateLimit: { max: number, timeWindow: string, keyGenerator: (request: FastifyRequest) => string } } {
  return { rateLimit: { max, timeWindow: '1 minute', keyGenerator: clientAddressKey } }
}
