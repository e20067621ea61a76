// A stand-in for the parts of Jira Cloud's REST API v3 the JIRA connector uses, as a real loopback HTTP
// server: Basic auth (account email + API token, 401 otherwise), /project/search (startAt paging),
// /search/jql (nextPageToken paging, requested fields only, bounded JQL), /issue/{key} (GET, 404), POST
// /issue and /issue/{key}/comment (ADF bodies, 400 with errorMessages/errors). Which documentation pages
// each behaviour follows: test/support/fake-upstreams.md.
import { basicCredentials, json, startFakeServer, type FakeAnswer, type FakeRequest, type FakeServer } from './fake-http.ts'

export interface FakeJiraIssue {
  id: string
  key: string
  fields: Record<string, unknown>
}

export interface FakeJira extends FakeServer {
  email: string
  token: string
  projects: Array<{ id: string, key: string, name: string, projectTypeKey: string }>
  issues: Map<string, FakeJiraIssue>
  /** Keys that moved: old key → current key (Jira answers the old key with the moved issue). */
  moved: Map<string, string>
}

const error = (status: number, messages: string[], errors: Record<string, string> = {}): FakeAnswer => json(status, { errorMessages: messages, errors })

// --- a small JQL subset: field = value, field != value, field in (…), field ~ "text", AND, OR, NOT, (), ORDER BY
type Node = { op: 'and' | 'or', left: Node, right: Node } | { op: 'not', inner: Node } | { op: 'cmp', field: string, cmp: string, values: string[] }

function tokenize (jql: string): string[] {
  const tokens: string[] = []
  const re = /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|!=|!~|[=~(),]|[^\s=~(),!"']+)/gy
  let m: RegExpExecArray | null
  let last = 0
  while ((m = re.exec(jql)) !== null) { tokens.push(m[1] as string); last = re.lastIndex }
  if (jql.slice(last).trim() !== '') throw new Error(`unexpected text at position ${last}`)
  return tokens
}

const unquote = (t: string): string => /^["']/.test(t) ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t

function parse (tokens: string[]): { where: Node | undefined, order: { field: string, desc: boolean } | undefined } {
  let i = 0
  const peek = (): string | undefined => tokens[i]
  const next = (): string => { const t = tokens[i++]; if (t === undefined) throw new Error('the query ends too early'); return t }
  const isKw = (t: string | undefined, kw: string): boolean => t?.toLowerCase() === kw
  const or = (): Node => { let left = and(); while (isKw(peek(), 'or')) { i++; left = { op: 'or', left, right: and() } } return left }
  const and = (): Node => { let left = unary(); while (isKw(peek(), 'and')) { i++; left = { op: 'and', left, right: unary() } } return left }
  const unary = (): Node => {
    if (isKw(peek(), 'not')) { i++; return { op: 'not', inner: unary() } }
    if (peek() === '(') { i++; const inner = or(); if (next() !== ')') throw new Error('expected )'); return inner }
    const field = unquote(next()).toLowerCase()
    let cmp = next().toLowerCase()
    if (cmp === 'not' && isKw(peek(), 'in')) { i++; cmp = 'not in' }
    if (cmp === 'in' || cmp === 'not in') {
      if (next() !== '(') throw new Error('expected ( after in')
      const values: string[] = []
      for (;;) { values.push(unquote(next())); const sep = next(); if (sep === ')') break; if (sep !== ',') throw new Error('expected , or )') }
      return { op: 'cmp', field, cmp, values }
    }
    if (!['=', '!=', '~', '!~'].includes(cmp)) throw new Error(`the operator '${cmp}' is not supported`)
    return { op: 'cmp', field, cmp, values: [unquote(next())] }
  }
  let where: Node | undefined
  if (peek() !== undefined && !isKw(peek(), 'order')) where = or()
  let order: { field: string, desc: boolean } | undefined
  if (isKw(peek(), 'order')) {
    i++
    if (!isKw(next(), 'by')) throw new Error('expected BY after ORDER')
    order = { field: next().toLowerCase(), desc: false }
    if (isKw(peek(), 'desc') || isKw(peek(), 'asc')) order.desc = next().toLowerCase() === 'desc'
  }
  if (i !== tokens.length) throw new Error(`unexpected '${tokens[i] as string}'`)
  return { where, order }
}

function fieldValue (issue: FakeJiraIssue, field: string): string {
  const f = issue.fields
  switch (field) {
    case 'project': return String((f.project as { key: string }).key)
    case 'key': case 'issuekey': return issue.key
    case 'status': return String((f.status as { name: string }).name)
    case 'summary': return String(f.summary)
    case 'text': return `${String(f.summary)} ${JSON.stringify(f.description ?? '')}`
    case 'labels': return ((f.labels as string[] | undefined) ?? []).join(' ')
    default: throw new Error(`Field '${field}' does not exist or you do not have permission to view it.`)
  }
}

function matches (issue: FakeJiraIssue, node: Node): boolean {
  switch (node.op) {
    case 'and': return matches(issue, node.left) && matches(issue, node.right)
    case 'or': return matches(issue, node.left) || matches(issue, node.right)
    case 'not': return !matches(issue, node.inner)
    case 'cmp': {
      const v = fieldValue(issue, node.field).toLowerCase()
      const values = node.values.map(x => x.toLowerCase())
      if (node.cmp === '=' || node.cmp === 'in') return values.includes(v)
      if (node.cmp === '!=' || node.cmp === 'not in') return !values.includes(v)
      return (node.cmp === '~') === v.includes(values[0] as string)
    }
  }
}

/** Bounded: some clause restricts the set (an AND needs one bounded side, an OR both). */
function bounded (node: Node | undefined): boolean {
  if (node === undefined) return false
  if (node.op === 'and') return bounded(node.left) || bounded(node.right)
  if (node.op === 'or') return bounded(node.left) && bounded(node.right)
  if (node.op !== 'cmp') return false
  return node.cmp === '=' || node.cmp === 'in' || node.cmp === '~'
}

function isAdfDoc (value: unknown): boolean {
  const v = value as { type?: unknown, version?: unknown, content?: unknown } | null
  return v !== null && typeof v === 'object' && v.type === 'doc' && v.version === 1 && Array.isArray(v.content)
}

export async function startFakeJira (options: { email?: string, token?: string } = {}): Promise<FakeJira> {
  const email = options.email ?? 'svc-gatehouse@example.com'
  const token = options.token ?? 'ATATT3xFfGF0-fake-jira-token-7c1d'
  const projects = [
    { id: '10000', key: 'ENG', name: 'Engineering', projectTypeKey: 'software' },
    { id: '10001', key: 'OPS', name: 'Operations', projectTypeKey: 'business' },
    { id: '10002', key: 'PUB', name: 'Public', projectTypeKey: 'business' },
    { id: '10003', key: 'SEC', name: 'Security', projectTypeKey: 'software' }
  ]
  const issues = new Map<string, FakeJiraIssue>()
  const moved = new Map<string, string>()
  const counters = new Map<string, number>()
  let nextId = 20000
  let nextComment = 30000
  const now = (): string => new Date().toISOString().replace('Z', '+0000')
  const addIssue = (projectKey: string, fields: Record<string, unknown>): FakeJiraIssue => {
    const project = projects.find(p => p.key === projectKey) as typeof projects[number]
    const n = (counters.get(projectKey) ?? 0) + 1
    counters.set(projectKey, n)
    const issue = {
      id: String(nextId++),
      key: `${projectKey}-${n}`,
      fields: { summary: '', status: { name: 'To Do' }, issuetype: { name: 'Task' }, priority: { name: 'Medium' }, assignee: null, reporter: { displayName: 'Service Gatehouse', emailAddress: email }, created: now(), updated: now(), labels: [], description: null, comment: { comments: [], total: 0 }, project: { id: project.id, key: project.key, name: project.name }, ...fields }
    }
    issues.set(issue.key, issue)
    return issue
  }
  const doc = (text: string): Record<string, unknown> => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] })
  for (let i = 1; i <= 7; i++) addIssue('ENG', { summary: `Engineering task ${i}`, status: { name: i % 2 === 0 ? 'In Progress' : 'To Do' }, description: doc(`Details of engineering task ${i}.`) })
  addIssue('OPS', { summary: 'Rotate the on-call schedule', description: doc('Ops only.') })
  addIssue('PUB', { summary: 'Public roadmap', description: doc('Everyone may read this.') })
  addIssue('SEC', { summary: 'Secret incident', description: doc('Security only.') })

  let server: FakeServer
  const self = (path: string): string => `${server.url}${path}`
  const pick = (issue: FakeJiraIssue, fieldsParam: string | null): Record<string, unknown> => {
    const wanted = fieldsParam === null ? ['*navigable'] : fieldsParam.split(',').map(s => s.trim()).filter(Boolean)
    if (wanted.includes('*all') || wanted.includes('*navigable')) return issue.fields
    const out: Record<string, unknown> = {}
    for (const f of wanted) if (f in issue.fields) out[f] = issue.fields[f]
    return out
  }
  const resolve = (key: string): FakeJiraIssue | undefined => issues.get(moved.get(key.toUpperCase()) ?? key.toUpperCase())

  const handle = (req: FakeRequest): FakeAnswer => {
    const credentials = basicCredentials(req.headers.authorization)
    if (credentials === undefined || credentials.user !== email || credentials.password !== token) {
      return error(401, ['You are not authenticated: send your account email and API token with Basic auth.'])
    }
    const path = req.url.pathname
    const q = req.url.searchParams
    if (req.method === 'GET' && path === '/rest/api/3/project/search') {
      const startAt = Number(q.get('startAt') ?? '0')
      const maxResults = Math.min(Number(q.get('maxResults') ?? '50'), 100)
      const keys = q.getAll('keys').map(k => k.toUpperCase())
      const text = q.get('query')?.toLowerCase()
      const found = projects
        .filter(p => keys.length === 0 || keys.includes(p.key))
        .filter(p => text === undefined || p.key.toLowerCase().includes(text) || p.name.toLowerCase().includes(text))
        .sort((a, b) => (q.get('orderBy') === 'name' ? a.name.localeCompare(b.name) : a.key.localeCompare(b.key)))
      const values = found.slice(startAt, startAt + maxResults)
      const isLast = startAt + values.length >= found.length
      return json(200, {
        self: self(`${path}?${q.toString()}`),
        ...(isLast ? {} : { nextPage: self(`${path}?startAt=${startAt + maxResults}&maxResults=${maxResults}`) }),
        maxResults,
        startAt,
        total: found.length,
        isLast,
        values: values.map(p => ({ self: self(`/rest/api/3/project/${p.id}`), ...p }))
      })
    }
    if (req.method === 'GET' && path === '/rest/api/3/search/jql') {
      const jql = q.get('jql') ?? ''
      let parsed: ReturnType<typeof parse>
      try { parsed = parse(tokenize(jql)) } catch (e) { return error(400, [`Error in the JQL Query: ${(e as Error).message}`]) }
      if (!bounded(parsed.where)) return error(400, ['Unbounded JQL queries are not allowed here. Add a search restriction to the query.'])
      let found: FakeJiraIssue[]
      try { found = [...issues.values()].filter(i => matches(i, parsed.where as Node)) } catch (e) { return error(400, [(e as Error).message]) }
      const order = parsed.order ?? { field: 'key', desc: false }
      found.sort((a, b) => {
        const [x, y] = order.field === 'key' ? [Number(a.id), Number(b.id)] : [String(a.fields[order.field] ?? ''), String(b.fields[order.field] ?? '')]
        const c = x < y ? -1 : x > y ? 1 : 0
        return order.desc ? -c : c
      })
      const offset = q.has('nextPageToken') ? Number(Buffer.from(q.get('nextPageToken') as string, 'base64url').toString().replace(/^offset:/, '')) : 0
      if (!Number.isInteger(offset)) return error(400, ['The nextPageToken is not valid.'])
      const maxResults = Math.min(Number(q.get('maxResults') ?? '50'), 100)
      const page = found.slice(offset, offset + maxResults)
      const more = offset + page.length < found.length
      // Without `fields`, this endpoint returns only issue ids.
      return json(200, {
        issues: page.map(i => ({ expand: '', id: i.id, self: self(`/rest/api/3/issue/${i.id}`), key: i.key, fields: pick(i, q.get('fields') ?? 'id') })),
        ...(more ? { nextPageToken: Buffer.from(`offset:${offset + maxResults}`).toString('base64url') } : {}),
        isLast: !more
      })
    }
    const issuePath = /^\/rest\/api\/3\/issue\/([^/]+)(\/comment)?$/.exec(path)
    if (issuePath !== null) {
      const issue = resolve(decodeURIComponent(issuePath[1] as string))
      if (issue === undefined) return error(404, ['Issue does not exist or you do not have permission to see it.'])
      if (req.method === 'GET' && issuePath[2] === undefined) {
        return json(200, { expand: 'renderedFields,names,schema', id: issue.id, self: self(`/rest/api/3/issue/${issue.id}`), key: issue.key, fields: pick(issue, q.get('fields')) })
      }
      if (req.method === 'POST' && issuePath[2] === '/comment') {
        let body: { body?: unknown }
        try { body = JSON.parse(req.body) as { body?: unknown } } catch { return error(400, ['Unexpected character in the request body.']) }
        if (!isAdfDoc(body.body)) return error(400, [], { comment: 'Comment body can not be empty!' })
        const comment = { id: String(nextComment++), self: self(`/rest/api/3/issue/${issue.id}/comment/${nextComment}`), author: { displayName: 'Service Gatehouse', emailAddress: email }, body: body.body, created: now(), updated: now() }
        const list = issue.fields.comment as { comments: unknown[], total: number }
        list.comments.push(comment)
        list.total = list.comments.length
        return json(201, comment)
      }
    }
    if (req.method === 'POST' && path === '/rest/api/3/issue') {
      if (!/^application\/json/i.test(String(req.headers['content-type']))) return { status: 415, body: '' }
      let body: { fields?: Record<string, any> }
      try { body = JSON.parse(req.body) as typeof body } catch { return error(400, ['Unexpected character in the request body.']) }
      const fields = body.fields ?? {}
      const errors: Record<string, string> = {}
      const project = projects.find(p => p.key === fields.project?.key || p.id === fields.project?.id)
      if (project === undefined) errors.project = 'valid project is required'
      if (typeof fields.summary !== 'string' || fields.summary.trim() === '') errors.summary = 'You must specify a summary of the issue.'
      else if (fields.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.'
      if (!['Task', 'Bug', 'Story'].includes(fields.issuetype?.name)) errors.issuetype = 'Specify an issue type'
      if (fields.description !== undefined && !isAdfDoc(fields.description)) errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)'
      if (Object.keys(errors).length > 0) return error(400, [], errors)
      const issue = addIssue((project as typeof projects[number]).key, { summary: fields.summary, issuetype: { name: fields.issuetype.name }, description: fields.description ?? null, labels: fields.labels ?? [] })
      return json(201, { id: issue.id, key: issue.key, self: self(`/rest/api/3/issue/${issue.id}`) })
    }
    return error(404, ['No resource at this path.'])
  }
  server = await startFakeServer(handle)
  return Object.assign(server, { email, token, projects, issues, moved })
}
