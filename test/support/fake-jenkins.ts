// A stand-in for the parts of Jenkins' remote access API the Jenkins connector uses, as a real loopback
// HTTP server: Basic auth with a user and API token (401 for wrong credentials, 403 for anonymous), the
// JSON API with `tree=` filtering, folders (/job/a/job/b), builds and consoleText, buildWithParameters
// answering 201 with a queue item Location, queue items that turn into builds, and the CSRF crumb
// (/crumbIssuer/api/json, bound to the web session's cookie). Pages followed: test/support/fake-upstreams.md.
import { randomBytes } from 'node:crypto'
import { basicCredentials, json, startFakeServer, type FakeAnswer, type FakeRequest, type FakeServer } from './fake-http.ts'

export interface FakeParameter { _class: string, name: string, type: string, description?: string, choices?: string[], defaultParameterValue?: { name: string, value: unknown } }
export interface FakeBuild { number: number, result: string | null, building: boolean, duration: number, timestamp: number, causes: Array<Record<string, unknown>>, parameters: Array<{ name: string, value: unknown }>, console: string }
export interface FakeJob { kind: 'job', name: string, color: string, buildable: boolean, parameters: FakeParameter[], builds: FakeBuild[] }
export interface FakeFolder { kind: 'folder', name: string, items: Array<FakeJob | FakeFolder> }

export interface FakeJenkins extends FakeServer {
  user: string
  token: string
  root: FakeFolder
  /** Require a crumb on POST (a Jenkins where API-token requests are not exempt from CSRF protection). */
  csrf: boolean
  /** Queue polls a new item answers as waiting before it becomes a build. */
  queuePolls: number
  find (fullName: string): FakeJob | FakeFolder | undefined
}

const page = (status: number, title: string): FakeAnswer => ({
  status,
  headers: { 'content-type': 'text/html;charset=utf-8' },
  body: `<html><head><meta http-equiv="Content-Type" content="text/html;charset=utf-8"/><title>Error ${status} ${title}</title></head><body><h2>HTTP ERROR ${status} ${title}</h2></body></html>`
})

/** `tree=jobs[name,jobs[name]]` as a nested map; null = the whole value. */
type Tree = Map<string, Tree | null>
export function parseTree (spec: string): Tree {
  let i = 0
  const level = (): Tree => {
    const out: Tree = new Map()
    for (;;) {
      let name = ''
      while (i < spec.length && !',[]'.includes(spec[i] as string)) name += spec[i++]
      let sub: Tree | null = null
      if (spec[i] === '[') { i++; sub = level(); if (spec[i++] !== ']') throw new Error('unbalanced tree') }
      if (name !== '') out.set(name.trim(), sub)
      if (spec[i] === ',') { i++; continue }
      return out
    }
  }
  const tree = level()
  if (i !== spec.length) throw new Error('unbalanced tree')
  return tree
}

function applyTree (value: unknown, tree: Tree | null): unknown {
  if (tree === null || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(v => applyTree(v, tree))
  const out: Record<string, unknown> = {}
  const o = value as Record<string, unknown>
  if ('_class' in o) out._class = o._class
  for (const [k, sub] of tree) if (k in o) out[k] = applyTree(o[k], sub)
  return out
}

export async function startFakeJenkins (options: { user?: string, token?: string } = {}): Promise<FakeJenkins> {
  const user = options.user ?? 'svc-gatehouse'
  const token = options.token ?? '11f0c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6'
  const requestedBy: FakeParameter = { _class: 'hudson.model.StringParameterDefinition', name: 'GATEHOUSE_REQUESTED_BY', type: 'StringParameterDefinition', description: 'who asked, set by gatehouse', defaultParameterValue: { name: 'GATEHOUSE_REQUESTED_BY', value: '' } }
  const build = (number: number, result: string, console: string): FakeBuild => ({ number, result, building: false, duration: 61_000, timestamp: Date.UTC(2026, 0, 5, 10, 0, 0), causes: [{ _class: 'hudson.triggers.TimerTrigger$TimerTriggerCause', shortDescription: 'Started by timer' }], parameters: [], console })
  const root: FakeFolder = {
    kind: 'folder',
    name: '',
    items: [
      { kind: 'folder', name: 'eng', items: [
        { kind: 'job', name: 'build-app', color: 'blue', buildable: true, parameters: [requestedBy, { _class: 'hudson.model.ChoiceParameterDefinition', name: 'TARGET', type: 'ChoiceParameterDefinition', choices: ['staging', 'production'] }, { _class: 'hudson.model.BooleanParameterDefinition', name: 'DRY_RUN', type: 'BooleanParameterDefinition' }, { _class: 'hudson.model.StringParameterDefinition', name: 'BRANCH', type: 'StringParameterDefinition' }, { _class: 'hudson.model.FileParameterDefinition', name: 'UPLOAD', type: 'FileParameterDefinition' }], builds: [build(1, 'SUCCESS', 'Started by timer\nBuilding\n'), build(2, 'FAILURE', `Started by timer\n${Array.from({ length: 120 }, (_, i) => `step ${i + 1}`).join('\n')}\nFinished: FAILURE\n`)] },
        { kind: 'folder', name: 'libs', items: [{ kind: 'job', name: 'lint', color: 'red_anime', buildable: true, parameters: [requestedBy], builds: [] }] }
      ] },
      { kind: 'folder', name: 'ops', items: [{ kind: 'job', name: 'deploy', color: 'yellow', buildable: true, parameters: [requestedBy], builds: [] }] },
      { kind: 'job', name: 'legacy', color: 'notbuilt', buildable: true, parameters: [], builds: [] }
    ]
  }
  const queue = new Map<number, { job: FakeJob, fullName: string, polls: number, build?: FakeBuild, parameters: Array<{ name: string, value: unknown }> }>()
  let nextQueueId = 100
  const sessions = new Map<string, string>() // JSESSIONID → crumb
  let server: FakeServer

  const find = (fullName: string): FakeJob | FakeFolder | undefined => {
    let node: FakeJob | FakeFolder = root
    for (const segment of fullName.split('/').filter(Boolean)) {
      if (node.kind !== 'folder') return undefined
      const child: FakeJob | FakeFolder | undefined = node.items.find(i => i.name === segment)
      if (child === undefined) return undefined
      node = child
    }
    return node
  }
  const url = (fullName: string): string => `${server.url}/${fullName.split('/').map(s => `job/${encodeURIComponent(s)}/`).join('')}`
  const itemJson = (node: FakeJob | FakeFolder, fullName: string): Record<string, unknown> => node.kind === 'folder'
    ? { _class: 'com.cloudbees.hudson.plugins.folder.Folder', name: node.name, fullName, url: url(fullName), jobs: node.items.map(i => itemJson(i, fullName === '' ? i.name : `${fullName}/${i.name}`)) }
    : {
        _class: 'hudson.model.FreeStyleProject',
        name: node.name,
        fullName,
        url: url(fullName),
        color: node.color,
        buildable: node.buildable,
        property: node.parameters.length === 0 ? [] : [{ _class: 'hudson.model.ParametersDefinitionProperty', parameterDefinitions: node.parameters }],
        lastBuild: node.builds.length === 0 ? null : { number: node.builds.at(-1)?.number, url: `${url(fullName)}${node.builds.at(-1)?.number}/` }
      }
  const buildJson = (b: FakeBuild, fullName: string): Record<string, unknown> => ({
    _class: 'hudson.model.FreeStyleBuild',
    actions: [{ _class: 'hudson.model.CauseAction', causes: b.causes }, ...(b.parameters.length === 0 ? [] : [{ _class: 'hudson.model.ParametersAction', parameters: b.parameters.map(p => ({ _class: 'hudson.model.StringParameterValue', ...p })) }])],
    building: b.building,
    displayName: `#${b.number}`,
    duration: b.duration,
    fullDisplayName: `${fullName} #${b.number}`,
    number: b.number,
    result: b.result,
    timestamp: b.timestamp,
    url: `${url(fullName)}${b.number}/`
  })
  const respond = (value: unknown, q: URLSearchParams): FakeAnswer => {
    let tree: Tree | null = null
    if (q.has('tree')) { try { tree = parseTree(q.get('tree') as string) } catch { return page(400, 'Bad Request') } }
    return json(200, applyTree(value, tree))
  }

  const handle = (req: FakeRequest): FakeAnswer => {
    const credentials = basicCredentials(req.headers.authorization)
    if (credentials === undefined) return { ...page(403, 'Forbidden'), headers: { 'content-type': 'text/html;charset=utf-8', 'x-you-are-authenticated-as': 'anonymous', 'x-required-permission': 'hudson.model.Hudson.Read' } }
    if (credentials.user !== user || credentials.password !== token) return page(401, 'Invalid password/token for user: ' + credentials.user)
    const q = req.url.searchParams
    let path = req.url.pathname
    if (req.method === 'GET' && path === '/crumbIssuer/api/json') {
      if (!fake.csrf) return page(404, 'Not Found')
      const session = randomBytes(12).toString('hex')
      const crumb = randomBytes(16).toString('hex')
      sessions.set(session, crumb)
      return json(200, { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb, crumbRequestField: 'Jenkins-Crumb' }, { 'set-cookie': [`JSESSIONID.fake01=${session}; Path=/; HttpOnly`] })
    }
    const queueMatch = /^\/queue\/item\/(\d+)\/api\/json$/.exec(path)
    if (req.method === 'GET' && queueMatch !== null) {
      const item = queue.get(Number(queueMatch[1]))
      if (item === undefined) return page(404, 'Not Found')
      if (item.build === undefined && item.polls-- <= 0) {
        item.build = { number: (item.job.builds.at(-1)?.number ?? 0) + 1, result: null, building: true, duration: 0, timestamp: Date.now(), causes: [{ _class: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user }], parameters: item.parameters, console: `Started by user ${user}\n` }
        item.job.builds.push(item.build)
      }
      const id = Number(queueMatch[1])
      return respond(item.build === undefined
        ? { _class: 'hudson.model.Queue$WaitingItem', id, blocked: false, buildable: false, why: 'In the quiet period. Expires in 0 ms', cancelled: false, task: { name: item.job.name } }
        : { _class: 'hudson.model.Queue$LeftItem', id, blocked: false, buildable: false, why: null, cancelled: false, executable: { _class: 'hudson.model.FreeStyleBuild', number: item.build.number, url: `${url(item.fullName)}${item.build.number}/` } }, q)
    }
    if (req.method === 'GET' && path === '/api/json') return respond({ _class: 'hudson.model.Hudson', jobs: itemJson(root, '').jobs }, q)
    // /job/a/job/b/<rest>: the item's full name, then what is asked of it.
    const segments: string[] = []
    let m: RegExpExecArray | null
    while ((m = /^\/job\/([^/]+)/.exec(path)) !== null) { segments.push(decodeURIComponent(m[1] as string)); path = path.slice(m[0].length) }
    if (segments.length === 0) return page(404, 'Not Found')
    const fullName = segments.join('/')
    const node = find(fullName)
    if (node === undefined) return page(404, 'Not Found')
    if (req.method === 'GET' && path === '/api/json') return respond(itemJson(node, fullName), q)
    if (node.kind !== 'job') return page(404, 'Not Found')
    const buildMatch = /^\/(\d+|lastBuild|lastSuccessfulBuild|lastFailedBuild)\/(api\/json|consoleText)$/.exec(path)
    if (req.method === 'GET' && buildMatch !== null) {
      const which = buildMatch[1] as string
      const b = which === 'lastBuild' ? node.builds.at(-1)
        : which === 'lastSuccessfulBuild' ? node.builds.findLast(x => x.result === 'SUCCESS')
          : which === 'lastFailedBuild' ? node.builds.findLast(x => x.result === 'FAILURE')
            : node.builds.find(x => x.number === Number(which))
      if (b === undefined) return page(404, 'Not Found')
      return buildMatch[2] === 'consoleText' ? { status: 200, headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: b.console } : respond(buildJson(b, fullName), q)
    }
    if (req.method === 'POST' && (path === '/build' || path === '/buildWithParameters')) {
      if (fake.csrf) {
        const cookie = /JSESSIONID\.fake01=([0-9a-f]+)/.exec(String(req.headers.cookie ?? ''))?.[1]
        const crumb = req.headers['jenkins-crumb']
        if (cookie === undefined || crumb === undefined || sessions.get(cookie) !== crumb) return page(403, 'No valid crumb was included in the request')
      }
      if (!node.buildable) return page(409, 'Conflict')
      if (path === '/buildWithParameters' && node.parameters.length === 0) return page(500, 'Server Error')
      const form = new URLSearchParams(/^application\/x-www-form-urlencoded/.test(String(req.headers['content-type'])) ? req.body : '')
      for (const [k, v] of q) form.append(k, v)
      // Only defined parameters are kept (undefined ones are dropped, as Jenkins does since SECURITY-170).
      const parameters = node.parameters.map(d => ({ name: d.name, value: form.get(d.name) ?? d.defaultParameterValue?.value ?? '' }))
      const id = nextQueueId++
      queue.set(id, { job: node, fullName, polls: fake.queuePolls, parameters })
      return { status: 201, headers: { location: `${server.url}/queue/item/${id}/` }, body: '' }
    }
    return page(404, 'Not Found')
  }
  server = await startFakeServer(handle)
  const fake: FakeJenkins = Object.assign(server, { user, token, root, csrf: false, queuePolls: 1, find })
  return fake
}
