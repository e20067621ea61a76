// The Jenkins pack (JSON remote access API, Basic auth with the service user and its API token): list
// jobs (folders included), read a build with the tail of its console, start a build. A build is started
// only on jobs that declare the GATEHOUSE_REQUESTED_BY string parameter, which gatehouse fills with the
// person who asked: the service user is shared, so that parameter is what names them in Jenkins.
import * as Type from 'typebox'
import type { Static, TSchema } from 'typebox'
import { Value } from 'typebox/value'
import type { Caller } from '../../mcp/caller.ts'
import type { Tool } from '../../mcp/tools/types.ts'
import type { ConnectorAccess } from '../access.ts'
import { connectorTool, denied, requester, type PackEnvironment } from '../connector-tool.ts'
import { abortableSleep } from '../../abortable-sleep.ts'
import { ConnectorError, type Deadline, type UpstreamHttp, type UpstreamResponse } from '../upstream-http.ts'

export const REQUESTED_BY_PARAMETER = 'GATEHOUSE_REQUESTED_BY'

// Segments of a full job name: no path tricks (".", "..", slashes, URL syntax) can reach another URL.
const SEGMENT = '(?!\\.\\.?(/|$))[A-Za-z0-9_.()+@ -]{1,128}'
const JOB_NAME = Type.String({ pattern: `^${SEGMENT}(/${SEGMENT}){0,9}$`, maxLength: 512, description: 'full job name, folders separated by "/", e.g. eng/app/build' })
const TAIL_BYTES = 256 * 1024
const QUEUE_POLL_MS = 500

/** Jenkins error pages are HTML; the message is in its <title> or the first <h2>/<p> of the body. */
export function jenkinsErrorMessage (body: unknown, text: string): string | undefined {
  if (body !== undefined && body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message
  const match = /<title>([^<]{1,300})<\/title>/i.exec(text) ?? /<h2>([^<]{1,300})<\/h2>/i.exec(text)
  return match?.[1]?.trim()
}

/** /job/a/job/b for "a/b": each segment encoded, so the name cannot become URL syntax. */
export function jobPath (fullName: string): string {
  return fullName.split('/').map(s => `/job/${encodeURIComponent(s)}`).join('')
}

function expect<S extends TSchema> (schema: S, value: unknown, what: string): Static<S> {
  if (!Value.Check(schema, value)) throw new ConnectorError('bad_answer', `Jenkins sent an unexpected answer for ${what}; try again later`)
  return value as Static<S>
}

interface JobNode { _class?: string, name: string, fullName?: string, color?: string, jobs?: JobNode[] }
const JobNodeSchema = Type.Object({ name: Type.String(), fullName: Type.Optional(Type.String()), color: Type.Optional(Type.String()), _class: Type.Optional(Type.String()), jobs: Type.Optional(Type.Array(Type.Unknown())) })
const JobList = Type.Object({ jobs: Type.Array(JobNodeSchema) })
const ParameterDefinition = Type.Object({
  name: Type.String(),
  type: Type.Optional(Type.String()),
  _class: Type.Optional(Type.String()),
  choices: Type.Optional(Type.Array(Type.String())),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()]))
})
const JobDetail = Type.Object({
  buildable: Type.Optional(Type.Boolean()),
  property: Type.Optional(Type.Array(Type.Object({ parameterDefinitions: Type.Optional(Type.Array(ParameterDefinition)) })))
})
const BuildDetail = Type.Object({
  number: Type.Integer(),
  url: Type.Optional(Type.String()),
  result: Type.Union([Type.String(), Type.Null()]),
  building: Type.Boolean(),
  duration: Type.Number(),
  timestamp: Type.Number(),
  displayName: Type.Optional(Type.String()),
  actions: Type.Optional(Type.Array(Type.Unknown()))
})
const QueueItem = Type.Object({
  id: Type.Integer(),
  why: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  cancelled: Type.Optional(Type.Boolean()),
  executable: Type.Optional(Type.Union([Type.Null(), Type.Object({ number: Type.Integer(), url: Type.Optional(Type.String()) })]))
})
const Crumb = Type.Object({ crumb: Type.String({ minLength: 1 }), crumbRequestField: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) })

const FOLDER_CLASS = /Folder|OrganizationFolder|WorkflowMultiBranchProject/

/** A ball colour as a status word: blue = success, red = failed, "_anime" = building now. */
function statusOf (color: string | undefined): string {
  if (color === undefined) return 'unknown'
  const base = color.replace(/_anime$/, '')
  const word = ({ blue: 'success', green: 'success', red: 'failed', yellow: 'unstable', aborted: 'aborted', disabled: 'disabled', notbuilt: 'not built', grey: 'not built' } as Record<string, string>)[base] ?? base
  return color.endsWith('_anime') ? `${word} (building)` : word
}

const nodeTree = (depth: number): string => depth === 0 ? 'name,fullName,color,_class' : `name,fullName,color,_class,jobs[${nodeTree(depth - 1)}]`

export function jenkinsTools (env: PackEnvironment, http: UpstreamHttp, access: ConnectorAccess, sleep: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined): Tool[] {
  const wait = sleep ?? abortableSleep

  const listJobs = connectorTool(env, {
    name: 'jenkins_list_jobs',
    title: 'List Jenkins jobs',
    description: 'Lists Jenkins jobs and folders you may use (three folder levels deep from the start folder), with the last build\'s status. Pass next_page_token from a previous answer for more.',
    inputSchema: Type.Object({
      folder: Type.Optional(JOB_NAME),
      max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })),
      next_page_token: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'from the previous answer' }))
    }, { additionalProperties: false }),
    access: 'read',
    annotations: { readOnlyHint: true, openWorldHint: true },
    target: input => input.folder === undefined ? 'jobs' : `folder ${input.folder}`,
    run: async (input, { caller, limit }) => {
      if (input.folder !== undefined && !access.jenkinsLeadsTo(caller, input.folder)) throw denied(`folder ${input.folder}`)
      const base = input.folder === undefined ? '' : jobPath(input.folder)
      const answer = expect(JobList, await http.json(`${base}/api/json`, { target: input.folder === undefined ? 'the job list' : `folder ${input.folder}`, query: { tree: `jobs[${nodeTree(3)}]` } }, limit), 'the job list')
      const items: Array<{ full_name: string, kind: 'folder' | 'job', status: string | null }> = []
      const walk = (nodes: unknown[], prefix: string): void => {
        for (const raw of nodes) {
          if (!Value.Check(JobNodeSchema, raw)) continue
          const node = raw as JobNode
          const fullName = node.fullName ?? (prefix === '' ? node.name : `${prefix}/${node.name}`)
          const folder = node.jobs !== undefined || FOLDER_CLASS.test(node._class ?? '')
          if (folder) {
            if (!access.jenkinsLeadsTo(caller, fullName)) continue
            items.push({ full_name: fullName, kind: 'folder', status: null })
            walk(node.jobs ?? [], fullName)
          } else if (access.jenkinsItem(caller, fullName)) {
            items.push({ full_name: fullName, kind: 'job', status: statusOf(node.color) })
          }
        }
      }
      walk(answer.jobs, input.folder ?? '')
      const offset = Number(input.next_page_token ?? '0')
      const max = input.max_results ?? 100
      const page = items.slice(offset, offset + max)
      const next = offset + max < items.length ? String(offset + max) : undefined
      return {
        data: { jobs: page, total: items.length, ...(next === undefined ? {} : { next_page_token: next }) },
        text: `${page.length} of ${items.length} item(s)${next === undefined ? '' : `; more with next_page_token "${next}"`}\n${page.map(j => j.kind === 'folder' ? `${j.full_name}/` : `${j.full_name}  ${String(j.status)}`).join('\n')}`.trim()
      }
    }
  })

  const getBuild = connectorTool(env, {
    name: 'jenkins_get_build',
    title: 'Read a Jenkins build',
    description: 'Reads a Jenkins build (the last one, or by number): status, result, duration, what started it, and the last lines of its console output.',
    inputSchema: Type.Object({
      job: JOB_NAME,
      build: Type.Optional(Type.Union([Type.Literal('lastBuild'), Type.Literal('lastSuccessfulBuild'), Type.Literal('lastFailedBuild'), Type.Integer({ minimum: 1 })], { default: 'lastBuild' })),
      console_lines: Type.Optional(Type.Integer({ minimum: 0, maximum: 500, default: 50, description: 'last lines of the console output to include' }))
    }, { additionalProperties: false }),
    access: 'read',
    annotations: { readOnlyHint: true, openWorldHint: true },
    target: input => `job ${input.job} #${String(input.build ?? 'lastBuild')}`,
    run: async (input, { caller, limit }) => {
      if (!access.jenkinsItem(caller, input.job)) throw denied(`job ${input.job}`)
      const build = `${jobPath(input.job)}/${String(input.build ?? 'lastBuild')}`
      const target = `build ${String(input.build ?? 'lastBuild')} of job ${input.job}`
      const detail = expect(BuildDetail, await http.json(`${build}/api/json`, {
        target,
        query: { tree: 'number,url,result,building,duration,timestamp,displayName,actions[causes[shortDescription,userId,userName],parameters[name,value]]' }
      }, limit), target)
      const causes: string[] = []
      const parameters: Record<string, unknown> = {}
      for (const action of detail.actions ?? []) {
        const a = (action ?? {}) as { causes?: unknown, parameters?: unknown }
        if (Array.isArray(a.causes)) for (const c of a.causes) if (typeof (c as { shortDescription?: unknown })?.shortDescription === 'string') causes.push((c as { shortDescription: string }).shortDescription)
        if (Array.isArray(a.parameters)) {
          for (const p of a.parameters) {
            const { name, value } = (p ?? {}) as { name?: unknown, value?: unknown }
            if (typeof name === 'string') parameters[name] = value ?? null
          }
        }
      }
      let consoleTail: string[] = []
      const lines = input.console_lines ?? 50
      if (lines > 0) {
        const log = await http.request(`${jobPath(input.job)}/${detail.number}/consoleText`, { target: `the console of ${target}`, tailBytes: TAIL_BYTES }, limit)
        const all = log.text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n')
        consoleTail = all.slice(-lines)
      }
      const status = detail.building ? 'building' : (detail.result ?? 'unknown').toLowerCase()
      const data = {
        job: input.job,
        number: detail.number,
        status,
        result: detail.result,
        building: detail.building,
        duration_ms: detail.duration,
        started_at: new Date(detail.timestamp).toISOString(),
        causes,
        parameters,
        requested_by: typeof parameters[REQUESTED_BY_PARAMETER] === 'string' ? parameters[REQUESTED_BY_PARAMETER] : null,
        console_tail: consoleTail
      }
      const text = [
        `${input.job} #${detail.number}: ${status}, ${Math.round(detail.duration / 1000)} s, started ${data.started_at}`,
        ...(causes.length === 0 ? [] : [`causes: ${causes.join('; ')}`]),
        ...(data.requested_by === null ? [] : [`requested by ${String(data.requested_by)}`]),
        ...(consoleTail.length === 0 ? [] : ['', `last ${consoleTail.length} console line(s):`, ...consoleTail])
      ].join('\n')
      return { data, text }
    }
  })

  /** POST with the CSRF crumb when Jenkins asks for one (403 "No valid crumb"), from the same web session. */
  async function postWithCrumb (path: string, form: URLSearchParams, target: string, limit: Deadline): Promise<UpstreamResponse> {
    const first = await http.request(path, { method: 'POST', form, target, accept: [403] }, limit)
    if (first.status !== 403) return first
    if (!/no valid crumb/i.test(first.text)) throw await http.failure(first, target)
    const issued = await http.request('/crumbIssuer/api/json', { target: 'a CSRF crumb', headers: { accept: 'application/json' } }, limit)
    const crumb = expect(Crumb, http.parse(issued), 'the CSRF crumb')
    // The crumb belongs to the web session that issued it (Jenkins 2.176.2+): send that session's cookie back.
    const cookie = issued.headers.getSetCookie().map(c => c.split(';')[0]).filter(c => c !== undefined && c !== '').join('; ')
    const second = await http.request(path, { method: 'POST', form, target, headers: { [crumb.crumbRequestField]: crumb.crumb, ...(cookie === '' ? {} : { cookie }) } }, limit)
    return second
  }

  const triggerBuild = connectorTool(env, {
    name: 'jenkins_trigger_build',
    title: 'Start a Jenkins build',
    description: `Starts a build of a Jenkins job you may use, with parameters checked against the job's definitions, and returns the build number once it leaves the queue. Only jobs with a ${REQUESTED_BY_PARAMETER} string parameter can be started; gatehouse sets it to your name.`,
    inputSchema: Type.Object({
      job: JOB_NAME,
      parameters: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,99}$' }), Type.Union([Type.String({ maxLength: 10000 }), Type.Number(), Type.Boolean()]), { maxProperties: 50, description: 'parameter name → value' })),
      wait_for_start: Type.Optional(Type.Boolean({ default: true, description: 'wait (within the time limit) for the build number' }))
    }, { additionalProperties: false }),
    access: 'write',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    target: input => `job ${input.job}`,
    run: async (input, { caller, limit, setTarget }) => {
      if (!access.jenkinsItem(caller, input.job)) throw denied(`job ${input.job}`)
      const target = `job ${input.job}`
      const job = expect(JobDetail, await http.json(`${jobPath(input.job)}/api/json`, {
        target,
        query: { tree: 'buildable,property[parameterDefinitions[name,type,choices,description]]' }
      }, limit), target)
      if (job.buildable === false) throw new ConnectorError('invalid', `${target} is disabled or cannot be built`)
      const definitions = new Map((job.property ?? []).flatMap(p => p.parameterDefinitions ?? []).map(d => [d.name, d]))
      const form = checkParameters(input.job, definitions, input.parameters ?? {}, caller)
      const started = await postWithCrumb(`${jobPath(input.job)}/buildWithParameters`, form, target, limit)
      // 201 with Location: <root>/queue/item/<id>/ (Jenkins ≥ 1.519). Only the id is taken from it: the
      // request to read the item is built on the configured base URL, never on a URL the server supplied.
      const queueId = /\/queue\/item\/(\d+)\/?$/.exec(started.headers.get('location') ?? '')?.[1]
      if (queueId === undefined) throw new ConnectorError('bad_answer', `Jenkins accepted the build of ${target} but did not say where it was queued`)
      setTarget(`${target} queue item ${queueId}`)
      const result: Record<string, unknown> = { job: input.job, queue_item: Number(queueId), status: 'queued', build_number: null, requested_by: requester(caller) }
      if (input.wait_for_start !== false) {
        // Follow the queue item until it becomes a build, leaving a second of the time limit for the answer.
        while (Date.now() + QUEUE_POLL_MS < limit.at - 1000) {
          const item = expect(QueueItem, await http.json(`/queue/item/${queueId}/api/json`, { target: `queue item ${queueId}`, query: { tree: 'id,why,cancelled,executable[number,url]' } }, limit), `queue item ${queueId}`)
          if (item.cancelled === true) { result.status = 'cancelled'; break }
          if (item.executable !== undefined && item.executable !== null) {
            result.status = 'started'
            result.build_number = item.executable.number
            setTarget(`${target} #${item.executable.number}`)
            break
          }
          result.why = item.why ?? null
          try { await wait(QUEUE_POLL_MS, limit.signal) } catch { break }
        }
      }
      const text = result.status === 'started'
        ? `started ${input.job} #${String(result.build_number)} for ${requester(caller)}`
        : `${input.job} is ${String(result.status)} (queue item ${queueId}${typeof result.why === 'string' ? `: ${result.why}` : ''}); jenkins_get_build shows it once it runs`
      return { data: result, text }
    }
  })

  return [listJobs, getBuild, triggerBuild] as unknown as Tool[]
}

/** The form for buildWithParameters: each value checked against its definition, and who asked, always. */
function checkParameters (job: string, definitions: Map<string, Static<typeof ParameterDefinition>>, given: Record<string, string | number | boolean>, caller: Caller): URLSearchParams {
  if (!definitions.has(REQUESTED_BY_PARAMETER)) {
    throw new ConnectorError('invalid', `job ${job} has no ${REQUESTED_BY_PARAMETER} string parameter, so a build could not record who asked for it; an administrator must add the parameter to the job`)
  }
  const form = new URLSearchParams()
  const problems: string[] = []
  for (const [name, value] of Object.entries(given)) {
    const definition = definitions.get(name)
    if (name === REQUESTED_BY_PARAMETER) { problems.push(`${name} is set by gatehouse`); continue }
    if (definition === undefined) { problems.push(`unknown parameter ${name}`); continue }
    const type = definition.type ?? definition._class?.split('.').pop() ?? ''
    if (type === 'BooleanParameterDefinition') {
      if (typeof value === 'boolean' || value === 'true' || value === 'false') form.set(name, String(value))
      else problems.push(`${name} must be true or false`)
    } else if (type === 'ChoiceParameterDefinition') {
      if ((definition.choices ?? []).includes(String(value))) form.set(name, String(value))
      else problems.push(`${name} must be one of ${(definition.choices ?? []).map(c => JSON.stringify(c)).join(', ')}`)
    } else if (type === 'StringParameterDefinition' || type === 'TextParameterDefinition') {
      form.set(name, String(value))
    } else {
      problems.push(`${name} is a ${type || 'parameter'} that this tool cannot set`)
    }
  }
  if (problems.length > 0) {
    const known = [...definitions.keys()].filter(n => n !== REQUESTED_BY_PARAMETER)
    throw new ConnectorError('invalid', `invalid parameters for job ${job}: ${problems.join('; ')} (the job takes: ${known.length === 0 ? 'no parameters' : known.join(', ')})`)
  }
  form.set(REQUESTED_BY_PARAMETER, requester(caller))
  return form
}
