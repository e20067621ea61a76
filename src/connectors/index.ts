// The connector tool packs, built from the configuration: a pack exists only when its service account is
// configured, so a deployment without JIRA or Jenkins offers exactly the tools it offered before.
import type { ConnectorsConfig } from '../config.ts'
import type { SecretClients } from '../crypto/secrets.ts'
import type { AuditLog } from '../ports/audit.ts'
import type { Tool } from '../mcp/tools/types.ts'
import { ConnectorAccess } from './access.ts'
import type { PackEnvironment } from './connector-tool.ts'
import { tokenSource } from './credentials.ts'
import { UpstreamHttp } from './upstream-http.ts'
import { jiraErrorMessage, jiraTools } from './jira/tools.ts'
import { jenkinsErrorMessage, jenkinsTools } from './jenkins/tools.ts'

export interface ConnectorToolsOptions {
  audit: AuditLog
  fetch?: typeof globalThis.fetch
  /** Injected in tests; the ARN's region's client otherwise. */
  secrets?: SecretClients
  /** Waits between Jenkins queue polls and before a Retry-After retry; injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

export function connectorTools (config: ConnectorsConfig, options: ConnectorToolsOptions): Tool[] {
  const env: PackEnvironment = { audit: options.audit, timeoutMs: config.timeoutMs, writeGroups: config.writeGroups }
  const access = new ConnectorAccess(config.access)
  const fetch = options.fetch ?? globalThis.fetch
  const tools: Tool[] = []
  if (config.jira !== undefined) {
    const http = new UpstreamHttp({ service: 'JIRA', account: config.jira, token: tokenSource(config.jira, options.secrets), fetch, errorMessage: jiraErrorMessage, ...(options.sleep === undefined ? {} : { sleep: options.sleep }) })
    tools.push(...jiraTools(env, http, access, config.jira.baseUrl))
  }
  if (config.jenkins !== undefined) {
    const http = new UpstreamHttp({ service: 'Jenkins', account: config.jenkins, token: tokenSource(config.jenkins, options.secrets), fetch, errorMessage: jenkinsErrorMessage, ...(options.sleep === undefined ? {} : { sleep: options.sleep }) })
    tools.push(...jenkinsTools(env, http, access, options.sleep))
  }
  return tools
}
