// Who may see and touch what through the shared service accounts. CONNECTOR_ACCESS maps a group ("*" for
// every signed-in user) to JIRA project keys and Jenkins folders; a caller gets the union over its groups.
// Unset, the connectors add no limit of their own. Lists are filtered with it and direct access is refused.
import type { Caller } from '../mcp/caller.ts'
import type { ConnectorAccessEntry } from '../config.ts'

export type System = 'jira' | 'jenkins'

/** 'all', or the names this caller may reach (project keys upper-cased; folders without slashes at the ends). */
export type Reach = 'all' | ReadonlySet<string>

export class ConnectorAccess {
  readonly #map: Record<string, ConnectorAccessEntry> | undefined

  constructor (map: Record<string, ConnectorAccessEntry> | undefined) { this.#map = map }

  reach (caller: Caller, system: System): Reach {
    if (this.#map === undefined) return 'all'
    const names = new Set<string>()
    for (const group of ['*', ...caller.groups]) {
      for (const name of this.#map[group]?.[system] ?? []) {
        if (name === '*') return 'all'
        names.add(system === 'jira' ? name.toUpperCase() : name.replace(/^\/+|\/+$/g, ''))
      }
    }
    return names
  }

  /** A JIRA project key (or the project part of an issue key) the caller may reach. */
  jiraProject (caller: Caller, projectKey: string): boolean {
    const reach = this.reach(caller, 'jira')
    return reach === 'all' || reach.has(projectKey.toUpperCase())
  }

  /** A Jenkins job or folder by full name ("eng/app/build"): inside one of the caller's folders. */
  jenkinsItem (caller: Caller, fullName: string): boolean {
    const reach = this.reach(caller, 'jenkins')
    if (reach === 'all') return true
    for (const folder of reach) if (fullName === folder || fullName.startsWith(`${folder}/`)) return true
    return false
  }

  /** A folder that leads to something the caller may reach (so listing may walk into it). */
  jenkinsLeadsTo (caller: Caller, folderName: string): boolean {
    const reach = this.reach(caller, 'jenkins')
    if (reach === 'all') return true
    for (const folder of reach) if (folder.startsWith(`${folderName}/`)) return true
    return this.jenkinsItem(caller, folderName)
  }
}

/** The project key of an issue key (ENG-12 → ENG); keys are letters/digits/underscore, then a dash and a number. */
export function projectOfIssueKey (issueKey: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9_]*)-\d+$/.exec(issueKey)?.[1]?.toUpperCase()
}
