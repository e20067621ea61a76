// The JIRA pack (Jira Cloud REST API v3, Basic auth with the service account's email and API token):
// list projects, search with JQL, read an issue, create an issue, add a comment. Every answer is checked
// against the shape the tools read, so a garbage answer is a tool error, never a crash.
import * as Type from 'typebox'
import type { Static, TSchema } from 'typebox'
import { Value } from 'typebox/value'
import type { Caller } from '../../mcp/caller.ts'
import type { Tool } from '../../mcp/tools/types.ts'
import { ConnectorAccess, projectOfIssueKey } from '../access.ts'
import { connectorTool, cut, denied, requester, type PackEnvironment } from '../connector-tool.ts'
import { ConnectorError, UpstreamHttp } from '../upstream-http.ts'
import { adfToText, textToAdf } from './adf.ts'

const ISSUE_KEY = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*-[0-9]{1,9}$', maxLength: 64, description: 'issue key, e.g. ENG-12' })
const PROJECT_KEY = Type.String({ pattern: '^[A-Z][A-Z0-9_]{1,19}$', description: 'project key, e.g. ENG' })
const DEFAULT_FIELDS = ['summary', 'status', 'issuetype', 'assignee', 'priority', 'updated']
const FIELD_CHARS = 500

/** Jira's error bodies: {"errorMessages": [...], "errors": {"field": "message"}}. */
export function jiraErrorMessage (body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined
  const { errorMessages, errors } = body as { errorMessages?: unknown, errors?: unknown }
  const parts: string[] = []
  if (Array.isArray(errorMessages)) for (const m of errorMessages) if (typeof m === 'string') parts.push(m)
  if (errors !== null && typeof errors === 'object') for (const [k, v] of Object.entries(errors)) if (typeof v === 'string') parts.push(`${k}: ${v}`)
  return parts.length === 0 ? undefined : parts.join('; ')
}

function expect<S extends TSchema> (schema: S, value: unknown, what: string): Static<S> {
  if (!Value.Check(schema, value)) throw new ConnectorError('bad_answer', `JIRA sent an unexpected answer for ${what}; try again later`)
  return value as Static<S>
}

const ProjectPage = Type.Object({
  values: Type.Array(Type.Object({ id: Type.String(), key: Type.String(), name: Type.String(), projectTypeKey: Type.Optional(Type.String()) })),
  startAt: Type.Optional(Type.Integer()),
  isLast: Type.Optional(Type.Boolean()),
  total: Type.Optional(Type.Integer())
})
const IssueShape = Type.Object({ id: Type.String(), key: Type.String(), fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())) })
const SearchPage = Type.Object({ issues: Type.Array(IssueShape), nextPageToken: Type.Optional(Type.Union([Type.String(), Type.Null()])), isLast: Type.Optional(Type.Boolean()) })
const Created = Type.Object({ id: Type.String(), key: Type.String() })
const CommentCreated = Type.Object({ id: Type.String(), created: Type.Optional(Type.String()) })

/** A field value as short text: names of people and statuses, ADF as plain text, lists joined. */
function fieldText (value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return cut(String(value), FIELD_CHARS).text
  if (Array.isArray(value)) return value.map(fieldText).filter(v => v !== null).join(', ')
  const o = value as Record<string, unknown>
  if (o.type === 'doc') return cut(adfToText(o), FIELD_CHARS).text
  for (const k of ['displayName', 'name', 'value', 'key']) if (typeof o[k] === 'string') return o[k]
  return cut(JSON.stringify(value), FIELD_CHARS).text
}

/** JQL with its ORDER BY split off, reading quotes so that "order by" inside a string is not a clause. */
export function splitOrderBy (jql: string): { where: string, orderBy: string } {
  let quote: string | undefined
  let at = -1
  for (let i = 0; i < jql.length; i++) {
    const c = jql[i] as string
    if (quote !== undefined) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (/^order\s+by\b/i.test(jql.slice(i)) && (i === 0 || /\s|\)/.test(jql[i - 1] as string))) at = i
  }
  return at === -1 ? { where: jql.trim(), orderBy: '' } : { where: jql.slice(0, at).trim(), orderBy: jql.slice(at).trim() }
}

/** The caller's JQL, limited to the projects it may reach (results are filtered again after). */
export function restrictJql (jql: string, projects: ReadonlySet<string>): string {
  const { where, orderBy } = splitOrderBy(jql)
  const scope = `project in (${[...projects].map(p => `"${p}"`).join(', ')})`
  return [where === '' ? scope : `${scope} AND (${where})`, orderBy].filter(Boolean).join(' ')
}

function attribution (caller: Caller): string {
  return `Requested by ${requester(caller)} through gatehouse (MCP client ${caller.clientId}).`
}

export function jiraTools (env: PackEnvironment, http: UpstreamHttp, access: ConnectorAccess, siteUrl: string): Tool[] {
  const reachable = (caller: Caller, key: string): boolean => access.jiraProject(caller, key)
  const browse = (key: string): string => `${siteUrl}/browse/${encodeURIComponent(key)}`
  const ProjectOnly = Type.Object({ key: Type.String(), fields: Type.Object({ project: Type.Object({ key: Type.String() }) }) })
  /** Before a write to an issue: the project it lives in now (a moved issue still answers to its old key). */
  const assertIssueReachable = async (caller: Caller, key: string, limit: Parameters<UpstreamHttp['json']>[2]): Promise<void> => {
    if (!reachable(caller, projectOfIssueKey(key) as string)) throw denied(`issue ${key}`)
    if (access.reach(caller, 'jira') === 'all') return
    const found = expect(ProjectOnly, await http.json(`/rest/api/3/issue/${encodeURIComponent(key)}`, { target: `issue ${key}`, query: { fields: 'project' } }, limit), `issue ${key}`)
    if (!reachable(caller, found.fields.project.key)) throw denied(`issue ${key}`)
  }

  const listProjects = connectorTool(env, {
    name: 'jira_list_projects',
    title: 'List JIRA projects',
    description: 'Lists the JIRA projects you can use, by key and name. Pass next_page_token from a previous answer to get the next page.',
    inputSchema: Type.Object({
      query: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'text the project key or name contains' })),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 25 })),
      next_page_token: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$', description: 'from the previous answer' }))
    }, { additionalProperties: false }),
    access: 'read',
    annotations: { readOnlyHint: true, openWorldHint: true },
    target: input => input.query === undefined ? 'projects' : `projects matching ${JSON.stringify(input.query)}`,
    run: async (input, { caller, limit }) => {
      const reach = access.reach(caller, 'jira')
      if (reach !== 'all' && reach.size === 0) throw denied('any JIRA project')
      const startAt = Number(input.next_page_token ?? '0')
      const page = expect(ProjectPage, await http.json('/rest/api/3/project/search', {
        target: 'the project list',
        query: { startAt, maxResults: input.max_results ?? 25, orderBy: 'key', query: input.query, keys: reach === 'all' ? undefined : [...reach].slice(0, 50) }
      }, limit), 'the project list')
      const projects = page.values.filter(p => reachable(caller, p.key)).map(p => ({ key: p.key, name: p.name, id: p.id, type: p.projectTypeKey ?? null, url: browse(p.key) }))
      const next = page.isLast === false ? String(startAt + page.values.length) : undefined
      const lines = projects.map(p => `${p.key}  ${p.name}`)
      return {
        data: { projects, ...(next === undefined ? {} : { next_page_token: next }) },
        text: `${projects.length} project(s)${next === undefined ? '' : `; more with next_page_token "${next}"`}\n${lines.join('\n')}`.trim()
      }
    }
  })

  const search = connectorTool(env, {
    name: 'jira_search',
    title: 'Search JIRA issues',
    description: 'Finds JIRA issues with a JQL query (e.g. project = ENG AND status = "In Progress" ORDER BY updated DESC). Returns key, summary, status and the fields you ask for; pass next_page_token from a previous answer for more.',
    inputSchema: Type.Object({
      jql: Type.String({ minLength: 1, maxLength: 2000, description: 'a bounded JQL query (name a project or another restriction)' }),
      fields: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), { maxItems: 20, uniqueItems: true, description: `field ids to return (default ${DEFAULT_FIELDS.join(', ')})` })),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20, description: 'issues per page, at most 50' })),
      next_page_token: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: '^[A-Za-z0-9_=+/.:-]+$', description: 'from the previous answer' }))
    }, { additionalProperties: false }),
    access: 'read',
    annotations: { readOnlyHint: true, openWorldHint: true },
    target: input => `jql ${cut(input.jql, 200).text}`,
    run: async (input, { caller, limit }) => {
      const reach = access.reach(caller, 'jira')
      if (reach !== 'all' && reach.size === 0) throw denied('any JIRA project')
      const jql = reach === 'all' ? input.jql : restrictJql(input.jql, reach)
      const fields = input.fields ?? DEFAULT_FIELDS
      const page = expect(SearchPage, await http.json('/rest/api/3/search/jql', {
        target: 'the JQL search',
        query: { jql, maxResults: input.max_results ?? 20, fields: fields.join(','), nextPageToken: input.next_page_token }
      }, limit), 'the search')
      // Filtered again: the JQL restriction is the first line, this is the one that cannot be talked around.
      const issues = page.issues.filter(i => { const p = projectOfIssueKey(i.key); return p !== undefined && reachable(caller, p) }).map(i => {
        const out: Record<string, unknown> = { key: i.key, url: browse(i.key) }
        for (const f of fields) out[f] = fieldText(i.fields?.[f])
        return out
      })
      const next = typeof page.nextPageToken === 'string' && page.isLast !== true ? page.nextPageToken : undefined
      const lines = issues.map(i => `${String(i.key)}  [${String(i.status ?? '')}]  ${String(i.summary ?? '')}`)
      return {
        data: { issues, ...(next === undefined ? {} : { next_page_token: next }) },
        text: `${issues.length} issue(s)${next === undefined ? '' : `; more with next_page_token "${next}"`}\n${lines.join('\n')}`.trim()
      }
    }
  })

  const getIssue = connectorTool(env, {
    name: 'jira_get_issue',
    title: 'Read a JIRA issue',
    description: 'Reads one JIRA issue: summary, status, people, dates, description and the latest comments, as plain text (long text is cut, with a note).',
    inputSchema: Type.Object({
      key: ISSUE_KEY,
      max_chars: Type.Optional(Type.Integer({ minimum: 200, maximum: 20000, default: 4000, description: 'longest description or comment returned' })),
      comments: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, default: 5, description: 'how many of the latest comments to include' }))
    }, { additionalProperties: false }),
    access: 'read',
    annotations: { readOnlyHint: true, openWorldHint: true },
    target: input => input.key.toUpperCase(),
    run: async (input, { caller, limit }) => {
      const key = input.key.toUpperCase()
      if (!reachable(caller, projectOfIssueKey(key) as string)) throw denied(`issue ${key}`)
      const issue = expect(IssueShape, await http.json(`/rest/api/3/issue/${encodeURIComponent(key)}`, {
        target: `issue ${key}`,
        query: { fields: 'summary,status,issuetype,priority,assignee,reporter,created,updated,labels,description,comment,project' }
      }, limit), `issue ${key}`)
      // An issue moved to another project answers under its new key: check where it lives now.
      const project = (issue.fields?.project as { key?: unknown } | undefined)?.key
      if (!reachable(caller, typeof project === 'string' ? project : projectOfIssueKey(issue.key) ?? '')) throw denied(`issue ${key}`)
      const max = input.max_chars ?? 4000
      const f = issue.fields ?? {}
      const description = cut(adfToText(f.description), max)
      const allComments = Array.isArray((f.comment as { comments?: unknown } | undefined)?.comments) ? (f.comment as { comments: unknown[] }).comments : []
      const wanted = input.comments ?? 5
      const comments = (wanted === 0 ? [] : allComments.slice(-wanted)).map(c => {
        const o = (c ?? {}) as Record<string, unknown>
        return { id: String(o.id ?? ''), author: fieldText(o.author), created: fieldText(o.created), body: cut(adfToText(o.body), max).text }
      })
      const data = {
        key: issue.key,
        url: browse(issue.key),
        summary: fieldText(f.summary),
        status: fieldText(f.status),
        type: fieldText(f.issuetype),
        priority: fieldText(f.priority),
        assignee: fieldText(f.assignee),
        reporter: fieldText(f.reporter),
        created: fieldText(f.created),
        updated: fieldText(f.updated),
        labels: Array.isArray(f.labels) ? f.labels.filter(l => typeof l === 'string') : [],
        description: description.text,
        description_truncated: description.truncated,
        comments,
        comments_total: allComments.length
      }
      const text = [
        `${issue.key}: ${String(data.summary ?? '')}`,
        `status ${String(data.status)}, type ${String(data.type)}, assignee ${String(data.assignee ?? 'unassigned')}, updated ${String(data.updated)}`,
        '',
        data.description,
        ...comments.map(c => `\n— ${String(c.author)} (${String(c.created)}):\n${c.body}`)
      ].join('\n')
      return { data, text }
    }
  })

  const createIssue = connectorTool(env, {
    name: 'jira_create_issue',
    title: 'Create a JIRA issue',
    description: 'Creates a JIRA issue in a project you may use. The issue records that you asked for it through gatehouse.',
    inputSchema: Type.Object({
      project: PROJECT_KEY,
      summary: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\r\\n]+$', description: 'one line' }),
      issue_type: Type.Optional(Type.String({ minLength: 1, maxLength: 60, default: 'Task', description: 'issue type name, e.g. Task, Bug, Story' })),
      description: Type.Optional(Type.String({ maxLength: 20000, description: 'plain text; blank lines separate paragraphs' })),
      labels: Type.Optional(Type.Array(Type.String({ pattern: '^[^\\s]{1,100}$' }), { maxItems: 10, uniqueItems: true }))
    }, { additionalProperties: false }),
    access: 'write',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    target: input => `project ${input.project}`,
    run: async (input, { caller, limit, setTarget }) => {
      if (!reachable(caller, input.project)) throw denied(`project ${input.project}`)
      const description = textToAdf(`${attribution(caller)}\n\n${input.description ?? ''}`)
      const created = expect(Created, await http.json('/rest/api/3/issue', {
        method: 'POST',
        target: `project ${input.project}`,
        json: {
          fields: {
            project: { key: input.project },
            summary: input.summary,
            issuetype: { name: input.issue_type ?? 'Task' },
            description,
            ...(input.labels === undefined ? {} : { labels: input.labels })
          }
        }
      }, limit), 'the created issue')
      setTarget(created.key)
      return {
        data: { created: { key: created.key, id: created.id, url: browse(created.key) }, requested_by: requester(caller) },
        text: `created ${created.key} (${browse(created.key)}), recorded as requested by ${requester(caller)}`
      }
    }
  })

  const addComment = connectorTool(env, {
    name: 'jira_add_comment',
    title: 'Comment on a JIRA issue',
    description: 'Adds a comment to a JIRA issue in a project you may use. The comment records that you wrote it through gatehouse.',
    inputSchema: Type.Object({
      key: ISSUE_KEY,
      body: Type.String({ minLength: 1, maxLength: 20000, description: 'plain text; blank lines separate paragraphs' })
    }, { additionalProperties: false }),
    access: 'write',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    target: input => input.key.toUpperCase(),
    run: async (input, { caller, limit }) => {
      const key = input.key.toUpperCase()
      await assertIssueReachable(caller, key, limit)
      const comment = expect(CommentCreated, await http.json(`/rest/api/3/issue/${encodeURIComponent(key)}/comment`, {
        method: 'POST',
        target: `issue ${key}`,
        json: { body: textToAdf(`${attribution(caller)}\n\n${input.body}`) }
      }, limit), 'the comment')
      return {
        data: { comment: { issue: key, id: comment.id, created: comment.created ?? null, url: `${browse(key)}?focusedCommentId=${encodeURIComponent(comment.id)}` }, requested_by: requester(caller) },
        text: `commented on ${key} (comment ${comment.id}), recorded as written by ${requester(caller)}`
      }
    }
  })

  return [listProjects, search, getIssue, createIssue, addComment] as unknown as Tool[]
}
