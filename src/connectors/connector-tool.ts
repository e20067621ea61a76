// What every connector tool shares: the time limit of the call, the audit event (user, client, tool,
// target, outcome) whatever happens, ConnectorErrors as tool errors the model can act on, and results as
// structured content plus a short text. Packs define their tools with connectorTool().
import type { Static, TObject } from 'typebox'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { AuditLog } from '../ports/audit.ts'
import type { Caller } from '../mcp/caller.ts'
import type { Tool } from '../mcp/tools/types.ts'
import { ConnectorError, deadline, type Deadline } from './upstream-http.ts'

export interface PackEnvironment {
  audit: AuditLog
  timeoutMs: number
  /** Groups allowed to use write tools (besides the mcp:write scope). */
  writeGroups: readonly string[]
}

export interface ToolCall {
  caller: Caller
  limit: Deadline
  /** Names what the call turned out to touch (e.g. the created issue), for the audit event. */
  setTarget: (target: string) => void
}

/** A result: `data` is the structured content, `text` the concise rendering a model reads first. */
export interface ConnectorOutput {
  data: Record<string, unknown>
  text: string
}

export interface ConnectorToolDefinition<S extends TObject> extends Omit<Tool<S>, 'handler' | 'groups' | 'scope'> {
  access: 'read' | 'write'
  /** The audit target from the input (e.g. "ENG-12", "job eng/build"). */
  target: (input: Static<S>) => string
  run: (input: Static<S>, call: ToolCall) => Promise<ConnectorOutput>
}

export function connectorTool<S extends TObject> (env: PackEnvironment, definition: ConnectorToolDefinition<S>): Tool<S> {
  const { access, target, run, ...tool } = definition
  return {
    ...tool,
    scope: access === 'write' ? 'mcp:write' : 'mcp:read',
    groups: access === 'write' ? env.writeGroups : [],
    handler: async (input, { caller, signal }): Promise<CallToolResult> => {
      let audited = target(input)
      const event = (outcome: string): void => {
        env.audit.event('connector.call', { sub: caller.sub, client_id: caller.clientId, tool: tool.name, target: audited, outcome })
      }
      try {
        const output = await run(input, { caller, limit: deadline(signal, env.timeoutMs), setTarget: t => { audited = t } })
        event('ok')
        return { content: [{ type: 'text', text: output.text }], structuredContent: output.data }
      } catch (error) {
        if (error instanceof ConnectorError) {
          event(error.kind)
          return { content: [{ type: 'text', text: error.message }], structuredContent: { error: error.kind, message: error.message }, isError: true }
        }
        event('failed')
        throw error
      }
    }
  }
}

/** Refusal of something outside the caller's CONNECTOR_ACCESS reach (no upstream call is made). */
export function denied (what: string): ConnectorError {
  return new ConnectorError('denied', `you have no access to ${what} through gatehouse (ask an administrator to add it to your group's connector access)`)
}

/** Who asked, as the writes record it: the shared service account acts, so the person must be named. */
export function requester (caller: Caller): string {
  return caller.email === undefined ? caller.sub : `${caller.email} (${caller.sub})`
}

/** Cuts a long text at `max` characters with a note saying so. */
export function cut (text: string, max: number): { text: string, truncated: boolean } {
  if (text.length <= max) return { text, truncated: false }
  return { text: `${text.slice(0, max)}\n[… cut: ${text.length - max} more characters]`, truncated: true }
}
