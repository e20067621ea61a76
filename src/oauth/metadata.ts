// RFC 8414 authorization server metadata and RFC 9728 protected resource metadata.
import { SUPPORTED_AUTH_METHODS } from './clients.ts'
import { GRANTS } from './grants/index.ts'

export function authorizationServerMetadata (options: { issuer: string, scopes: string[] }): Record<string, unknown> {
  const { issuer } = options
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    introspection_endpoint: `${issuer}/introspect`,
    revocation_endpoint: `${issuer}/revoke`,
    jwks_uri: `${issuer}/jwks.json`,
    scopes_supported: options.scopes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANTS.keys()],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: SUPPORTED_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: SUPPORTED_AUTH_METHODS,
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    resource_indicators_supported: true,
    service_documentation: `${issuer}/`
  }
}

export function protectedResourceMetadata (options: { resource: string, authorizationServers: string[], scopes: string[], name?: string }): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: options.authorizationServers,
    scopes_supported: options.scopes,
    bearer_methods_supported: ['header'],
    resource_name: options.name ?? 'gatehouse MCP server'
  }
}
