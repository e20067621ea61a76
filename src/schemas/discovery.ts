// Discovery documents, the JWKS and the health answer. The metadata documents are open-ended by their
// RFCs (RFC 8414 §2, RFC 9728 §2: unknown members are ignored by clients), so members beyond those
// listed are serialized too rather than silently dropped.
import * as Type from 'typebox'

const Strings = Type.Array(Type.String())

/** RFC 8414 §2 (also served as OpenID Connect Discovery). */
export const AuthorizationServerMetadata = Type.Object({
  issuer: Type.String(),
  authorization_endpoint: Type.String(),
  token_endpoint: Type.String(),
  registration_endpoint: Type.Optional(Type.String()),
  introspection_endpoint: Type.Optional(Type.String()),
  revocation_endpoint: Type.Optional(Type.String()),
  jwks_uri: Type.String(),
  scopes_supported: Strings,
  response_types_supported: Strings,
  response_modes_supported: Type.Optional(Strings),
  grant_types_supported: Strings,
  code_challenge_methods_supported: Strings,
  token_endpoint_auth_methods_supported: Strings,
  introspection_endpoint_auth_methods_supported: Type.Optional(Strings),
  revocation_endpoint_auth_methods_supported: Type.Optional(Strings),
  client_id_metadata_document_supported: Type.Optional(Type.Boolean()),
  authorization_response_iss_parameter_supported: Type.Optional(Type.Boolean()),
  resource_indicators_supported: Type.Optional(Type.Boolean()),
  service_documentation: Type.Optional(Type.String())
}, { additionalProperties: true })

/** RFC 9728 §2. */
export const ProtectedResourceMetadata = Type.Object({
  resource: Type.String(),
  authorization_servers: Strings,
  scopes_supported: Strings,
  bearer_methods_supported: Strings,
  resource_name: Type.Optional(Type.String())
}, { additionalProperties: true })

/** RFC 7517 §5: public keys only; the members of each key are the JWK's own (RFC 7518 §6.3.1 for RSA). */
export const Jwks = Type.Object({
  keys: Type.Array(Type.Object({
    kty: Type.String(),
    kid: Type.String(),
    use: Type.Optional(Type.String()),
    alg: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String())
  }, { additionalProperties: true }))
})

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  store: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')])
})
