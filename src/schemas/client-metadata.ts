// RFC 7591 client metadata: the /register body, the registration response, and the compiled check of
// Client ID Metadata Documents. The schema checks shape (types, lengths, counts); what the values may be
// (redirect URI rules, supported methods and grants, known scopes) stays in src/oauth/clients.ts.
import * as Type from 'typebox'
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'

/** RFC 7591 §2: a member may be null, which reads as absent. */
const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))
/** Human-readable text: short, without control characters. */
const Text = Type.String({ maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })
const Name = Type.String({ maxLength: 100 })
const Uri = Type.String({ maxLength: 2000 })

export const MAX_REDIRECT_URIS = 10

/** The members gatehouse reads; others are allowed and ignored (RFC 7591 §2). */
export const ClientMetadata = Type.Object({
  redirect_uris: Nullable(Type.Array(Uri, { maxItems: MAX_REDIRECT_URIS })),
  token_endpoint_auth_method: Nullable(Name),
  grant_types: Nullable(Type.Array(Name, { maxItems: 10 })),
  response_types: Nullable(Type.Array(Name, { maxItems: 10 })),
  client_name: Nullable(Text),
  client_uri: Nullable(Text),
  logo_uri: Nullable(Text),
  scope: Nullable(Type.String({ maxLength: 1000 })),
  software_id: Nullable(Text),
  software_version: Nullable(Text),
  contacts: Nullable(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 20 })),
  // MCP 2026-07-28 (SEP-837) / OpenID Connect Registration §2.
  application_type: Nullable(Type.Union([Type.Literal('web'), Type.Literal('native')]))
}, { additionalProperties: true })
export type ClientMetadata = Static<typeof ClientMetadata>

/** RFC 7591 §3.2.1: what /register answers (and echoes of the stored client). */
export const RegisteredClient = Type.Object({
  client_id: Type.String(),
  client_secret: Type.Optional(Type.String()),
  client_id_issued_at: Type.Integer(),
  client_secret_expires_at: Type.Optional(Type.Integer()),
  redirect_uris: Type.Array(Type.String()),
  token_endpoint_auth_method: Type.Union([Type.Literal('none'), Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')]),
  grant_types: Type.Array(Type.String()),
  response_types: Type.Array(Type.String()),
  client_name: Type.Optional(Type.String()),
  client_uri: Type.Optional(Type.String()),
  logo_uri: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  software_id: Type.Optional(Type.String()),
  software_version: Type.Optional(Type.String()),
  application_type: Type.Optional(Type.Union([Type.Literal('web'), Type.Literal('native')]))
})
export type RegisteredClient = Static<typeof RegisteredClient>

/** Where client metadata first fails its schema, or undefined when it fits. */
export interface ClientMetadataProblem {
  /** The top-level member at fault; undefined when the metadata is not a JSON object at all. */
  member: string | undefined
  message: string
}

let compiled: ReturnType<typeof Compile<typeof ClientMetadata>> | undefined

/** Checks a metadata document or registration body (compiled on first use, not at cold start). */
export function clientMetadataProblem (value: unknown): ClientMetadataProblem | undefined {
  compiled ??= Compile(ClientMetadata)
  if (compiled.Check(value)) return undefined
  const [first] = compiled.Errors(value)
  return problemAt(first?.instancePath ?? '', first?.message ?? 'is invalid')
}

/** The same from a JSON pointer (Ajv's and TypeBox's instancePath) and a message. */
export function problemAt (instancePath: string, message: string): ClientMetadataProblem {
  const member = instancePath.split('/')[1]
  return { member: member === '' ? undefined : member, message: message.startsWith('must match pattern') ? 'must be text without control characters' : message }
}
