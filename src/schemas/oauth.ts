// The OAuth endpoints' wire shapes: form bodies, the error JSON, token and introspection responses.
// Response schemas also serialize (fast-json-stringify): a member not declared here is not sent.
import * as Type from 'typebox'
import type { Static } from 'typebox'

const Field = Type.String({ maxLength: 8192 })
/** Form parameters must not repeat (RFC 6749 §3.2): a repeated one arrives as an array and fails this schema. */
export const FormBody = Type.Record(Type.String({ maxLength: 100 }), Field)

/** RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 6750 §3: every refusal in JSON. */
export const OAuthErrorBody = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String())
})
export type OAuthErrorBody = Static<typeof OAuthErrorBody>

/** The error statuses of a JSON endpoint, for its `response` schema. */
export const OAUTH_ERRORS = { '4xx': OAuthErrorBody, '5xx': OAuthErrorBody } as const

/** RFC 7009 §2.2: success is the status alone; nothing is sent. */
export const EmptyBody = Type.Unsafe<void>({ description: 'no body' })

/** RFC 6749 §5.1 (scope is always sent: RFC 6749 §3.3 lets a server narrow it). */
export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
  refresh_token: Type.Optional(Type.String())
})
export type TokenResponse = Static<typeof TokenResponse>

/** RFC 7662 §2.2. */
export const IntrospectionResponse = Type.Union([
  Type.Object({ active: Type.Literal(false) }),
  Type.Object({
    active: Type.Literal(true),
    scope: Type.String(),
    client_id: Type.String(),
    sub: Type.String(),
    aud: Type.String(),
    iss: Type.String(),
    exp: Type.Integer(),
    iat: Type.Integer(),
    token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('refresh_token')]),
    username: Type.Optional(Type.String()),
    groups: Type.Optional(Type.Array(Type.String()))
  })
])
export type IntrospectionResponse = Static<typeof IntrospectionResponse>
