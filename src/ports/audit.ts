// The audit port: security events with stable names, one structured log line each.

/** Something that emits audit events with stable names; never given tokens or secrets. */
export interface AuditLog {
  event (name: AuditEventName, fields: Record<string, unknown>): void
}

export type AuditEventName =
  | 'client.registered'
  | 'consent.granted'
  | 'consent.denied'
  | 'login.succeeded'
  | 'login.failed'
  | 'grant.issued'
  | 'token.refreshed'
  | 'code.reuse_detected'
  | 'refresh.reuse_detected'
  | 'refresh.flood_detected'
  | 'grant.revoked'
  | 'grant.upstream_revoked'
  | 'client.removed'
  | 'account.signed_in'
  | 'token.introspected'
  | 'tool.denied'
  | 'mcp.session_refused'
  | 'mcp.stream_refused'
  | 'connector.call'
  | 'gateway.call'
  | 'gateway.tool_denied'
  | 'gateway.access_denied'
  | 'gateway.session_refused'
  | 'gateway.session_ended'
