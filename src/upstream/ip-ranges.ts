// Which resolved addresses an outbound fetch may connect to: public unicast only. Everything in the IANA
// special-purpose registries (RFC 6890 and successors) is refused, as the Client ID Metadata Document
// draft requires (§ "Server Side Request Forgery (SSRF) Attacks").
import { BlockList, isIPv4, isIPv6 } from 'node:net'

const IPV4_SPECIAL: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", including the unspecified address
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, carrier-grade NAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including the cloud metadata service 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (includes 192.0.0.192, some providers' metadata service)
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4] // reserved, including broadcast 255.255.255.255
]

// IPv6 is allow-listed: only global unicast (2000::/3) is reachable, which already excludes ::, ::1,
// IPv4-mapped/-compatible, NAT64 (64:ff9b::/96), unique-local fc00::/7 (incl. the EC2 metadata
// service fd00:ec2::254), link-local fe80::/10 and multicast ff00::/8. Within it, these are special:
const IPV6_SPECIAL: Array<[string, number]> = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, …
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an arbitrary IPv4 address
  ['3fff::', 20] // documentation (RFC 9637)
]

const ipv4Special = new BlockList()
for (const [network, prefix] of IPV4_SPECIAL) ipv4Special.addSubnet(network, prefix, 'ipv4')
const ipv6GlobalUnicast = new BlockList()
ipv6GlobalUnicast.addSubnet('2000::', 3, 'ipv6')
const ipv6Special = new BlockList()
for (const [network, prefix] of IPV6_SPECIAL) ipv6Special.addSubnet(network, prefix, 'ipv6')

export interface VettedAddress {
  /** The address to connect to (an IPv4-mapped IPv6 address becomes its IPv4 form). */
  address: string
  family: 4 | 6
}

/** The WHATWG URL parser's canonical IPv6 text (lower case, compressed, mapped IPv4 in hex). */
function canonicalIpv6 (address: string): string | undefined {
  try { return new URL(`http://[${address}]/`).hostname.slice(1, -1) } catch { return undefined }
}

/**
 * The address to connect to when `address` is public unicast, undefined otherwise. Zone ids, malformed
 * input and every special-purpose range are refused; an IPv4-mapped address is judged as IPv4.
 */
export function vetAddress (address: string): VettedAddress | undefined {
  if (isIPv4(address)) return ipv4Special.check(address, 'ipv4') ? undefined : { address, family: 4 }
  if (!isIPv6(address) || address.includes('%')) return undefined
  const canonical = canonicalIpv6(address)
  if (canonical === undefined) return undefined
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical)
  if (mapped !== null) {
    const high = parseInt(mapped[1] as string, 16)
    const low = parseInt(mapped[2] as string, 16)
    const ipv4 = `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
    return ipv4Special.check(ipv4, 'ipv4') ? undefined : { address: ipv4, family: 4 }
  }
  if (!ipv6GlobalUnicast.check(canonical, 'ipv6') || ipv6Special.check(canonical, 'ipv6')) return undefined
  return { address: canonical, family: 6 }
}
