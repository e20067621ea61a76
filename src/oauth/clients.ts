// Clients: dynamic registration (RFC 7591), Client ID Metadata Documents, and client authentication
// at the token, introspection and revocation endpoints (RFC 6749 §2.3).
import { InvalidClientError, InvalidClientMetadataError, InvalidRedirectUriError, InvalidRequestError } from './errors.ts'
import type { Clock } from '../ports/clock.ts'
import type { ClientRecord, TokenEndpointAuthMethod } from '../ports/records.ts'
import type { ClientStore } from '../ports/store.ts'
import type { ClientMetadataDocumentFetcher } from '../ports/client-metadata.ts'
import { redirectUriProblem } from './redirect-uris.ts'
import { matchesHash, randomToken, sha256 } from './secrets.ts'
import { parseScope } from './scopes.ts'
import { clientMetadataProblem, MAX_REDIRECT_URIS, type ClientMetadata, type ClientMetadataProblem, type RegisteredClient } from '../schemas/client-metadata.ts'

export const SUPPORTED_AUTH_METHODS: TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post']
export const SUPPORTED_GRANT_TYPES = ['authorization_code', 'refresh_token']
const MAX_CLIENT_ID_BYTES = 1000
const MAX_REGISTERED_CLIENT_ID = 200

export interface ClientRulesOptions {
  clients: ClientStore
  clock: Clock
  scopes: string[]
  redirectSchemes: string[]
  /** This server's origin: redirect URIs may not point back at it. */
  issuer?: string | undefined
  /** Fetches Client ID Metadata Documents; absent = URL client ids are refused. */
  metadataDocuments?: ClientMetadataDocumentFetcher | undefined
  /** Seconds a registered client lives without a new grant (CLIENT_UNUSED_DAYS); 0 or absent = forever. */
  unusedClientTtl?: number | undefined
}

/** RFC 7591 §3.2.2: a bad redirect URI is invalid_redirect_uri, any other bad member invalid_client_metadata. */
export function clientMetadataError (problem: ClientMetadataProblem): InvalidClientMetadataError | InvalidRedirectUriError {
  if (problem.member === undefined) return new InvalidClientMetadataError('client metadata must be a JSON object')
  const description = `${problem.member} ${problem.message}`
  return problem.member === 'redirect_uris' ? new InvalidRedirectUriError(description) : new InvalidClientMetadataError(description)
}

function httpsUrl (text: string | null | undefined, field: string): string | undefined {
  if (text === undefined || text === null) return undefined
  let url: URL
  try { url = new URL(text) } catch { throw new InvalidClientMetadataError(`${field} must be an https URL`) }
  if (url.protocol !== 'https:') throw new InvalidClientMetadataError(`${field} must be an https URL`)
  return url.href
}

const unique = (values: string[] | null | undefined, fallback: string[]): string[] => values === undefined || values === null ? fallback : [...new Set(values)]

/** Validates RFC 7591 metadata into the fields of a client record (no id, no secret). */
export function validateClientMetadata (input: unknown, options: Pick<ClientRulesOptions, 'scopes' | 'redirectSchemes' | 'issuer'>): Omit<ClientRecord, 'clientId' | 'createdAt' | 'expiresAt' | 'clientSecretHash'> {
  const problem = clientMetadataProblem(input)
  if (problem !== undefined) throw clientMetadataError(problem)
  return checkedClientMetadata(input as ClientMetadata, options)
}

/** The rules on metadata whose shape the schema (src/schemas/client-metadata.ts) has already checked. */
export function checkedClientMetadata (input: ClientMetadata, options: Pick<ClientRulesOptions, 'scopes' | 'redirectSchemes' | 'issuer'>): Omit<ClientRecord, 'clientId' | 'createdAt' | 'expiresAt' | 'clientSecretHash'> {
  const redirectUris = unique(input.redirect_uris, [])
  if (redirectUris.length === 0) throw new InvalidRedirectUriError('redirect_uris must list at least one redirect URI')
  if (redirectUris.length > MAX_REDIRECT_URIS) throw new InvalidRedirectUriError(`at most ${MAX_REDIRECT_URIS} redirect URIs`)
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri, options.redirectSchemes, options.issuer === undefined ? undefined : new URL(options.issuer).origin)
    if (problem !== undefined) throw new InvalidRedirectUriError(problem)
  }
  const method = input.token_endpoint_auth_method ?? 'client_secret_basic'
  if (!SUPPORTED_AUTH_METHODS.includes(method as TokenEndpointAuthMethod)) {
    throw new InvalidClientMetadataError(`token_endpoint_auth_method must be one of ${SUPPORTED_AUTH_METHODS.join(', ')}`)
  }
  const grantTypes = unique(input.grant_types, ['authorization_code'])
  for (const g of grantTypes) if (!SUPPORTED_GRANT_TYPES.includes(g)) throw new InvalidClientMetadataError(`grant type ${g} is not supported`)
  if (!grantTypes.includes('authorization_code')) throw new InvalidClientMetadataError('grant_types must include authorization_code')
  const responseTypes = unique(input.response_types, ['code'])
  if (responseTypes.length !== 1 || responseTypes[0] !== 'code') throw new InvalidClientMetadataError('response_types must be ["code"]')
  let scope: string | undefined
  if (input.scope !== undefined && input.scope !== null) {
    let parsed: string[]
    try { parsed = parseScope(input.scope) } catch { throw new InvalidClientMetadataError('scope contains an invalid character') }
    const unknown = parsed.filter(s => !options.scopes.includes(s))
    if (unknown.length > 0) throw new InvalidClientMetadataError(`unsupported scope: ${unknown.join(' ')}`)
    scope = parsed.length > 0 ? parsed.join(' ') : undefined
  }
  const record: Omit<ClientRecord, 'clientId' | 'createdAt' | 'expiresAt' | 'clientSecretHash'> = {
    tokenEndpointAuthMethod: method as TokenEndpointAuthMethod,
    redirectUris,
    grantTypes,
    responseTypes
  }
  const clientUri = httpsUrl(input.client_uri, 'client_uri')
  const logoUri = httpsUrl(input.logo_uri, 'logo_uri')
  if (input.client_name !== undefined && input.client_name !== null) record.clientName = input.client_name
  if (clientUri !== undefined) record.clientUri = clientUri
  if (logoUri !== undefined) record.logoUri = logoUri
  if (scope !== undefined) record.scope = scope
  if (input.software_id !== undefined && input.software_id !== null) record.softwareId = input.software_id
  if (input.software_version !== undefined && input.software_version !== null) record.softwareVersion = input.software_version
  // MCP 2026-07-28 asks clients to say which kind they are (OpenID Connect Registration §2); kept and echoed.
  if (input.application_type !== undefined && input.application_type !== null) record.applicationType = input.application_type
  return record
}

export function clientResponse (client: ClientRecord, secret?: string): RegisteredClient {
  const response: RegisteredClient = {
    client_id: client.clientId,
    client_id_issued_at: client.createdAt,
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    grant_types: client.grantTypes,
    response_types: client.responseTypes
  }
  if (secret !== undefined) {
    response.client_secret = secret
    response.client_secret_expires_at = 0
  }
  if (client.clientName !== undefined) response.client_name = client.clientName
  if (client.clientUri !== undefined) response.client_uri = client.clientUri
  if (client.logoUri !== undefined) response.logo_uri = client.logoUri
  if (client.scope !== undefined) response.scope = client.scope
  if (client.softwareId !== undefined) response.software_id = client.softwareId
  if (client.softwareVersion !== undefined) response.software_version = client.softwareVersion
  if (client.applicationType !== undefined) response.application_type = client.applicationType
  return response
}

/**
 * RFC 7591 §3: registers a client from a body the route checked against the ClientMetadata schema.
 * Confidential clients get a generated secret, stored only as its hash.
 */
export async function registerClient (input: ClientMetadata, options: ClientRulesOptions): Promise<{ client: ClientRecord, response: RegisteredClient }> {
  const metadata = checkedClientMetadata(input, options)
  const now = options.clock.now()
  const ttl = options.unusedClientTtl ?? 0
  // An unused registration expires (the item's TTL); a grant pushes that out when due (extendClientLife).
  const client: ClientRecord = { ...metadata, clientId: randomToken(18), createdAt: now, expiresAt: ttl > 0 ? clientExpiresAt(now, ttl, 0) : 0 }
  let secret: string | undefined
  if (client.tokenEndpointAuthMethod !== 'none') {
    secret = randomToken(32)
    client.clientSecretHash = sha256(secret)
  }
  await options.clients.saveClient(client)
  return { client, response: clientResponse(client, secret) }
}

/** The share of CLIENT_UNUSED_DAYS a client's expiry is set beyond what it needs, so it is written only that often. */
const CLIENT_EXPIRY_HEADROOM = 0.1

/** A registered client's expiry: the unused lifetime from `now`, at least `atLeast`, plus the headroom. */
export function clientExpiresAt (now: number, unusedClientTtl: number, atLeast: number): number {
  return Math.max(now + unusedClientTtl, atLeast) + Math.ceil(unusedClientTtl * CLIENT_EXPIRY_HEADROOM)
}

/**
 * A new grant keeps its registered client: until the grant itself ends (its refresh tokens need the
 * client) and for the unused-client lifetime after today. The write is due only when the client (as just
 * read to authenticate it) would expire sooner than that; it then gets the headroom too, so a busy client
 * is written about once per tenth of its lifetime, not at every grant. Clients that never expire (0:
 * provisioned by an operator, or metadata documents, which are not stored) are left alone.
 */
export async function extendClientLife (client: ClientRecord, grantExpiresAt: number, options: Pick<ClientRulesOptions, 'clients' | 'clock' | 'unusedClientTtl'>): Promise<void> {
  const ttl = options.unusedClientTtl ?? 0
  if (ttl <= 0 || client.expiresAt === 0) return
  const now = options.clock.now()
  if (client.expiresAt >= Math.max(now + ttl, grantExpiresAt)) return
  await options.clients.extendClient(client.clientId, clientExpiresAt(now, ttl, grantExpiresAt))
}

/** Finds a client by id: the registry, or for an https URL the Client ID Metadata Document it names. */
export async function findClient (clientId: string | undefined, options: ClientRulesOptions): Promise<ClientRecord | undefined> {
  // Ids gatehouse issues are short; a metadata document URL must fit the store's keys (a sort key holds
  // at most 1024 bytes, and consents are keyed by client). Longer ids name no client, rather than a 500.
  if (clientId === undefined || clientId === '' || Buffer.byteLength(clientId) > MAX_CLIENT_ID_BYTES) return undefined
  if (!clientId.startsWith('https://') && clientId.length > MAX_REGISTERED_CLIENT_ID) return undefined
  // An https URL names a Client ID Metadata Document; anything else is a registered client id.
  if (!clientId.startsWith('https://')) return await options.clients.findClient(clientId)
  if (options.metadataDocuments === undefined) return undefined
  const document = await options.metadataDocuments.fetch(clientId)
  return clientFromMetadataDocument(clientId, document, options)
}

/** Validates a Client ID Metadata Document: its client_id must equal the URL it was fetched from. */
export function clientFromMetadataDocument (url: string, document: unknown, options: Pick<ClientRulesOptions, 'scopes' | 'redirectSchemes' | 'clock' | 'issuer'>): ClientRecord {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new InvalidClientError('client metadata document is not a JSON object')
  const doc = document as Record<string, unknown>
  if (doc.client_id !== url) throw new InvalidClientError('client metadata document client_id does not match its URL')
  if (doc.client_secret !== undefined) throw new InvalidClientError('client metadata documents must not carry a client_secret')
  const method = doc.token_endpoint_auth_method ?? 'none'
  if (method !== 'none') throw new InvalidClientError('client metadata document clients must use token_endpoint_auth_method none (private_key_jwt is not supported)')
  let metadata
  try {
    metadata = validateClientMetadata({ ...doc, token_endpoint_auth_method: 'none' }, options)
  } catch (error) {
    throw new InvalidClientError(`client metadata document is invalid: ${(error as Error & { description?: string }).description ?? 'bad metadata'}`)
  }
  return { ...metadata, clientId: url, createdAt: options.clock.now(), expiresAt: 0 }
}

export interface ClientCredentials {
  /** From HTTP Basic (RFC 6749 §2.3.1: form-urlencoded, then base64). */
  basic?: { clientId: string, clientSecret: string } | undefined
  /** From the body. */
  clientId?: string | undefined
  clientSecret?: string | undefined
}

/** Parses an Authorization: Basic header into client credentials; malformed → invalid_client. */
export function parseBasicAuthorization (header: string | undefined): ClientCredentials['basic'] {
  if (header === undefined) return undefined
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim())
  if (match === null) return undefined
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw new InvalidClientError('malformed Basic credentials')
  try {
    return { clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), clientSecret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) }
  } catch {
    throw new InvalidClientError('malformed Basic credentials')
  }
}

/**
 * Authenticates the client at the token/introspection/revocation endpoint with exactly the method it
 * registered. Exactly one method may be used per request (RFC 6749 §2.3).
 */
export async function authenticateClient (credentials: ClientCredentials, options: ClientRulesOptions, requireConfidential = false): Promise<ClientRecord> {
  const { basic } = credentials
  if (basic !== undefined && credentials.clientSecret !== undefined) throw new InvalidRequestError('use only one client authentication method')
  if (basic !== undefined && credentials.clientId !== undefined && credentials.clientId !== basic.clientId) throw new InvalidRequestError('client_id does not match the Authorization header')
  const clientId = basic?.clientId ?? credentials.clientId
  if (clientId === undefined || clientId === '') throw new InvalidClientError('client authentication is required')
  const client = await findClient(clientId, options)
  if (client === undefined) throw new InvalidClientError('unknown client', `client ${clientId.slice(0, 64)}`)
  const method = client.tokenEndpointAuthMethod
  if (requireConfidential && method === 'none') throw new InvalidClientError('this endpoint requires a confidential client')
  if (method === 'none') {
    if (basic !== undefined || credentials.clientSecret !== undefined) throw new InvalidClientError('this client is public and must not send a secret')
    return client
  }
  const secret = method === 'client_secret_basic' ? basic?.clientSecret : (basic === undefined ? credentials.clientSecret : undefined)
  if (secret === undefined) throw new InvalidClientError(`client must authenticate with ${method}`)
  if (client.clientSecretHash === undefined || !matchesHash(secret, client.clientSecretHash)) throw new InvalidClientError('client authentication failed', 'bad secret')
  return client
}
