// Who may use a backend and which of its tools (GATEHOUSE_BACKENDS): the backend's own scopes and groups,
// then per-tool rules by exact name, `prefix*` or `*` (the most specific rule wins). A tool the caller may
// not use is hidden: left out of tools/list and refused when called, as if it did not exist.
import type { BackendConfig, BackendToolRule } from '../config.ts'
import type { Caller } from '../mcp/caller.ts'

export type BackendRefusal = { reason: 'scope', scope: string } | { reason: 'group' }

/** Why the caller may not use the backend at all, or undefined when it may. */
export function backendRefusal (backend: Pick<BackendConfig, 'scopes' | 'groups'>, caller: Caller): BackendRefusal | undefined {
  const scope = backend.scopes.find(s => !caller.scopes.includes(s))
  if (scope !== undefined) return { reason: 'scope', scope }
  if (backend.groups !== undefined && !backend.groups.some(g => caller.groups.includes(g))) return { reason: 'group' }
  return undefined
}

/** The rule for a tool: its exact name, else the longest matching `prefix*`, else `*`, else none. */
export function ruleFor (tools: Record<string, BackendToolRule>, name: string): BackendToolRule | undefined {
  const exact = tools[name]
  if (exact !== undefined) return exact
  let best: { length: number, rule: BackendToolRule } | undefined
  for (const [pattern, rule] of Object.entries(tools)) {
    if (!pattern.endsWith('*')) continue
    const prefix = pattern.slice(0, -1)
    if (name.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = { length: prefix.length, rule }
  }
  return best?.rule
}

export function toolAllowed (tools: Record<string, BackendToolRule>, caller: Caller, name: string): boolean {
  const rule = ruleFor(tools, name)
  if (rule === undefined) return true
  if (!rule.scopes.every(s => caller.scopes.includes(s))) return false
  return rule.groups === undefined || rule.groups.some(g => caller.groups.includes(g))
}

/** A tools/list result with the tools the caller may not use left out; anything unexpected passes untouched. */
export function filterToolsResult (result: unknown, tools: Record<string, BackendToolRule>, caller: Caller): unknown {
  if (result === null || typeof result !== 'object' || !Array.isArray((result as { tools?: unknown }).tools)) return result
  const listed = (result as { tools: unknown[] }).tools
  return { ...result, tools: listed.filter(tool => typeof (tool as { name?: unknown } | null)?.name === 'string' && toolAllowed(tools, caller, (tool as { name: string }).name)) }
}
