// The token command's OAuth client (oauth4webapi): discovery from an MCP URL (401 → RFC 9728 protected
// resource metadata → RFC 8414 authorization server metadata), registration once (RFC 7591, or a client ID
// metadata document URL when the server supports them), authorization code + PKCE through a loopback
// redirect on a random port (RFC 8252 §7.3), refresh, and revocation (RFC 7009).
import { createServer, type Server } from 'node:http'
import * as oauth from 'oauth4webapi'
import { isLoopbackHttpUrl } from '../loopback.ts'
import { CliError } from './io.ts'
import type { CachedClient, CachedTokens } from './token-cache.ts'

export interface Discovered {
  resource: string
  as: oauth.AuthorizationServer
  scopes: string[]
}

/** http is allowed only for loopback servers (local runs); anything else must be https. */
function httpOptions (url: string): { [oauth.allowInsecureRequests]?: true } {
  return isLoopbackHttpUrl(url) ? { [oauth.allowInsecureRequests]: true } : {}
}

async function reach (url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(15_000) })
  } catch (error) {
    const cause = (error as { cause?: { code?: string, message?: string } }).cause
    throw new CliError(`cannot reach ${url} (${cause?.code ?? cause?.message ?? (error as Error).message}); check the URL and that the server is running`)
  }
}

const NO_METADATA = (url: string): CliError => new CliError(`${url} does not advertise OAuth protected resource metadata (RFC 9728): it is not an OAuth-protected MCP server, or the URL is wrong (it usually ends in /mcp)`)

/** 401 → resource_metadata in the challenge (or the well-known URL) → the authorization server's metadata. */
export async function discover (mcpUrl: string): Promise<Discovered> {
  const probe = await reach(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' })
  })
  await probe.body?.cancel()
  const challenge = probe.headers.get('www-authenticate') ?? ''
  const named = /resource_metadata="([^"]+)"/.exec(challenge)?.[1]
  let metadataResponse: Response
  const resourceUrl = new URL(mcpUrl)
  if (named !== undefined) {
    metadataResponse = await reach(named)
  } else {
    if (probe.status !== 401) throw NO_METADATA(mcpUrl)
    metadataResponse = await oauth.resourceDiscoveryRequest(resourceUrl, httpOptions(mcpUrl)).catch(() => { throw NO_METADATA(mcpUrl) })
  }
  let prm: oauth.ResourceServer
  try {
    prm = await oauth.processResourceDiscoveryResponse(resourceUrl, metadataResponse)
  } catch (error) {
    throw new CliError(`${mcpUrl}: its protected resource metadata is unusable (${(error as Error).message})`)
  }
  const issuer = prm.authorization_servers?.[0]
  if (issuer === undefined) throw new CliError(`${mcpUrl}: its protected resource metadata names no authorization server`)
  let as: oauth.AuthorizationServer
  try {
    const issuerUrl = new URL(issuer)
    as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { ...httpOptions(issuer), algorithm: 'oauth2' }))
  } catch (error) {
    throw new CliError(`the authorization server ${issuer} has no usable OAuth metadata (RFC 8414): ${(error as Error).message}`)
  }
  return { resource: prm.resource, as, scopes: prm.scopes_supported ?? [] }
}

export const REDIRECT_PATH = '/callback'
/** Registered without a port: the server accepts any port on a loopback redirect URI (RFC 8252 §7.3). */
export const REGISTERED_REDIRECT = `http://127.0.0.1${REDIRECT_PATH}`

export async function registerClient (as: oauth.AuthorizationServer, clientIdUrl: string | undefined): Promise<CachedClient> {
  if (clientIdUrl !== undefined) {
    if (as.client_id_metadata_document_supported !== true) throw new CliError(`${as.issuer} does not support client ID metadata documents; run without --client-id-url to register instead`)
    return { client_id: clientIdUrl, kind: 'metadata-document' }
  }
  if (as.registration_endpoint === undefined) throw new CliError(`${as.issuer} offers no dynamic client registration; pass a client ID metadata document URL with --client-id-url`)
  try {
    const response = await oauth.dynamicClientRegistrationRequest(as, {
      client_name: 'gatehouse CLI',
      redirect_uris: [REGISTERED_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      software_id: 'gatehouse-cli'
    }, httpOptions(as.issuer))
    const client = await oauth.processDynamicClientRegistrationResponse(response)
    return { client_id: client.client_id, kind: 'registered' }
  } catch (error) {
    throw new CliError(`registration at ${as.issuer} failed: ${describe(error)}`)
  }
}

function describe (error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) return `${error.error}${error.error_description === undefined ? '' : `: ${error.error_description}`}`
  return (error as Error).message
}

export interface LoginOptions {
  as: oauth.AuthorizationServer
  client: CachedClient
  resource: string
  scopes: string[]
  /** 0 = a random free port. */
  port: number
  /** Shows the user the URL (and opens the browser unless told not to). */
  present (url: string): Promise<void>
  timeoutMs?: number
}

/** The loopback listener that receives the authorization response. */
async function listen (port: number): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new CliError(`port ${port} on 127.0.0.1 is in use, so the sign-in cannot come back to it; stop what uses it, pick another with --port, or leave --port out for a random one`)
        : error)
    })
    server.listen(port, '127.0.0.1', resolve)
  })
  return server
}

const PAGE = (message: string): string => `<!doctype html><meta charset="utf-8"><title>gatehouse</title><p>${message}</p>`

export async function login (options: LoginOptions): Promise<oauth.TokenEndpointResponse> {
  const { as, client } = options
  const server = await listen(options.port)
  try {
    const port = (server.address() as { port: number }).port
    const redirectUri = `http://127.0.0.1:${port}${REDIRECT_PATH}`
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const url = new URL(as.authorization_endpoint as string)
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: options.resource,
      ...(options.scopes.length > 0 ? { scope: options.scopes.join(' ') } : {})
    }).toString()
    const callback = new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new CliError('the sign-in did not finish within 5 minutes; run the command again')) }, options.timeoutMs ?? 300_000)
      server.on('request', (request, response) => {
        const received = new URL(request.url ?? '/', redirectUri)
        if (received.pathname !== REDIRECT_PATH) { response.writeHead(404).end(); return }
        const denied = received.searchParams.get('error')
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        response.end(PAGE(denied === null ? 'Signed in. You can close this window and go back to the terminal.' : 'The sign-in did not complete. You can close this window.'))
        clearTimeout(timer)
        resolve(received)
      })
    })
    await options.present(url.href)
    const received = await callback
    const oauthClient: oauth.Client = { client_id: client.client_id, token_endpoint_auth_method: 'none' }
    let params: URLSearchParams
    try {
      params = oauth.validateAuthResponse(as, oauthClient, received, state)
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError && error.error === 'access_denied') {
        throw new CliError(`the sign-in was denied at ${as.issuer} (consent refused or the login was cancelled); nothing was saved. Run the command again and choose Allow to connect`)
      }
      throw new CliError(`the sign-in failed: ${error instanceof oauth.AuthorizationResponseError ? `${error.error}${error.error_description === undefined ? '' : `: ${error.error_description}`}` : (error as Error).message}`)
    }
    try {
      const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, oauth.None(), params, redirectUri, verifier, { ...httpOptions(as.issuer), additionalParameters: { resource: options.resource } })
      return await oauth.processAuthorizationCodeResponse(as, oauthClient, response)
    } catch (error) {
      throw new CliError(`the token request at ${as.issuer} failed: ${describe(error)}`)
    }
  } finally {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
}

/** Undefined when the refresh token is no longer good (expired, revoked, reused): a new login is needed. */
export async function refresh (entry: CachedTokens): Promise<oauth.TokenEndpointResponse | undefined> {
  const as: oauth.AuthorizationServer = { issuer: entry.issuer, token_endpoint: entry.token_endpoint }
  const client: oauth.Client = { client_id: entry.client.client_id, token_endpoint_auth_method: 'none' }
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), entry.refresh_token as string, { ...httpOptions(entry.issuer), additionalParameters: { resource: entry.resource } })
    return await oauth.processRefreshTokenResponse(as, client, response)
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && (error.error === 'invalid_grant' || error.error === 'invalid_client')) return undefined
    if (error instanceof TypeError && (error as { cause?: unknown }).cause !== undefined) throw new CliError(`cannot reach ${entry.token_endpoint}; check that the server is running`)
    throw new CliError(`refreshing the token at ${entry.issuer} failed: ${describe(error)}`)
  }
}

/** RFC 7009: the refresh token (which ends the whole grant at gatehouse), then the access token. */
export async function revoke (entry: CachedTokens): Promise<boolean> {
  if (entry.revocation_endpoint === undefined) return false
  const as: oauth.AuthorizationServer = { issuer: entry.issuer, revocation_endpoint: entry.revocation_endpoint }
  const client: oauth.Client = { client_id: entry.client.client_id, token_endpoint_auth_method: 'none' }
  let revoked = false
  for (const token of [entry.refresh_token, entry.access_token]) {
    if (token === undefined) continue
    try {
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), token, httpOptions(entry.issuer)))
      revoked = true
    } catch (error) {
      throw new CliError(`revocation at ${entry.issuer} failed (${describe(error)}); the tokens were kept: try again, or revoke them on the connected apps page`)
    }
  }
  return revoked
}
