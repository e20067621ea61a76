// A small downstream API for on-behalf-of tests: it accepts only access tokens of the upstream issuer,
// checked against that issuer's JWKS (found through its discovery document), and answers who called.
// It records every Authorization header it receives, so tests can prove the MCP token never arrived.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import buildGetJwks from 'get-jwks'
import { createVerifier } from 'fast-jwt'

export interface DownstreamApi {
  url: string
  /** Every Authorization header received, in order. */
  authorizations: string[]
  close (): Promise<void>
}

export async function startDownstreamApi (options: { issuer: string }): Promise<DownstreamApi> {
  const getJwks = buildGetJwks({ issuersWhitelist: [options.issuer], providerDiscovery: true })
  const verify = createVerifier({
    algorithms: ['RS256'],
    allowedIss: options.issuer,
    key: async (decoded: { header: { kid?: string, alg?: string } }) => await getJwks.getPublicKey({ kid: decoded.header.kid, alg: decoded.header.alg, domain: options.issuer })
  })
  const authorizations: string[] = []
  const server: Server = createServer((req, res) => {
    const header = req.headers.authorization ?? ''
    authorizations.push(header)
    const send = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra })
      res.end(JSON.stringify(body))
    }
    const token = header.startsWith('Bearer ') ? header.slice(7) : ''
    verify(token).then((claims: Record<string, unknown>) => {
      if (claims.token_use !== 'access') { send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }); return }
      if (req.url === '/api/profile') {
        send(200, { sub: claims.sub, username: claims.username, groups: claims['cognito:groups'] ?? [], iss: claims.iss, client_id: claims.client_id })
        return
      }
      send(404, { error: 'not_found', path: req.url })
    }, () => send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}
