// The loopback host names, in the form `URL#hostname` gives them (IPv6 in brackets). One list for the
// redirect-URI rules (RFC 8252 §7.3), the development upstream's http issuer and the store's local endpoint.
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost'])

export function isLoopbackHost (hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname)
}

/** An absolute `http:` URL on a loopback host; false for anything else, including what does not parse. */
export function isLoopbackHttpUrl (url: string): boolean {
  const parsed = URL.parse(url)
  return parsed !== null && parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)
}
