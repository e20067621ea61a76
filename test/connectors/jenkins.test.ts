// The Jenkins pack through the real app (/mcp with real tokens) against the fake Jenkins on loopback:
// folders, builds and console tails, starting a build (parameters checked against the job, who asked
// recorded, queue item followed to the build number, CSRF crumb when asked), folder access.
import t from 'tap'
import { startFakeJenkins, parseTree } from '../support/fake-jenkins.ts'
import { buildMcpApp, callTool } from '../mcp/helpers.ts'
import { jenkinsErrorMessage, jobPath } from '../../src/connectors/jenkins/tools.ts'

const jenkins = await startFakeJenkins()
t.teardown(() => jenkins.close())

const env = (extra: Record<string, string> = {}): Record<string, string> => ({ JENKINS_URL: jenkins.url, JENKINS_USER: jenkins.user, JENKINS_API_TOKEN: jenkins.token, ...extra })
const result = (res: { json: () => any }): { isError?: boolean, text: string, data: any } => {
  const body = res.json()
  return { isError: body.result?.isError, text: body.result?.content?.[0]?.text ?? JSON.stringify(body), data: body.result?.structuredContent }
}
const ACCESS = JSON.stringify({ '*': { jenkins: ['eng/libs'] }, engineering: { jenkins: ['eng'] }, admins: { jenkins: ['*'] } })

t.test('the fake follows the documented auth answers: 403 anonymous, 401 wrong token', async t => {
  const anonymous = await fetch(`${jenkins.url}/api/json`)
  t.equal(anonymous.status, 403)
  t.equal(anonymous.headers.get('x-you-are-authenticated-as'), 'anonymous')
  const wrong = await fetch(`${jenkins.url}/api/json`, { headers: { authorization: `Basic ${Buffer.from(`${jenkins.user}:nope`).toString('base64')}` } })
  t.equal(wrong.status, 401)
  t.same([...parseTree('jobs[name,jobs[name]],x').keys()], ['jobs', 'x'])
  t.throws(() => parseTree('jobs[name'))
})

t.test('jenkins_list_jobs walks folders, pages, and keeps to the caller\'s folders', async t => {
  const built = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: ACCESS }) })
  const admin = (await built.mint({ groups: ['admins'] })).token
  const all = result(await callTool(built.app, admin, 'jenkins_list_jobs', {}))
  t.notOk(all.isError, all.text)
  t.same(all.data.jobs.map((j: { full_name: string }) => j.full_name), ['eng', 'eng/build-app', 'eng/libs', 'eng/libs/lint', 'ops', 'ops/deploy', 'legacy'])
  t.match(all.data.jobs[1], { kind: 'job', status: 'success' })
  t.match(all.data.jobs[3], { status: 'failed (building)' })
  t.match(all.text, /^7 of 7 item\(s\)\neng\/\neng\/build-app {2}success/)
  const sent = jenkins.requests.at(-1)
  t.match(sent?.url.searchParams.get('tree'), /^jobs\[name,fullName,color,_class,jobs\[/)

  const paged = result(await callTool(built.app, admin, 'jenkins_list_jobs', { max_results: 3 }))
  t.equal(paged.data.next_page_token, '3')
  const rest = result(await callTool(built.app, admin, 'jenkins_list_jobs', { max_results: 3, next_page_token: '6' }))
  t.same(rest.data.jobs.map((j: { full_name: string }) => j.full_name), ['legacy'])

  const bob = (await built.mint({ groups: [] })).token
  const bobs = result(await callTool(built.app, bob, 'jenkins_list_jobs', {}))
  t.same(bobs.data.jobs.map((j: { full_name: string }) => j.full_name), ['eng', 'eng/libs', 'eng/libs/lint'], 'only the way to eng/libs and what is in it')
  const folder = result(await callTool(built.app, bob, 'jenkins_list_jobs', { folder: 'eng/libs' }))
  t.same(folder.data.jobs.map((j: { full_name: string }) => j.full_name), ['eng/libs/lint'])
  t.match(result(await callTool(built.app, bob, 'jenkins_list_jobs', { folder: 'ops' })).text, /no access to folder ops/)
  t.match(result(await callTool(built.app, bob, 'jenkins_get_build', { job: 'eng/build-app' })).text, /no access to job eng\/build-app/)
  t.match(result(await callTool(built.app, bob, 'jenkins_list_jobs', { folder: '../ops' })).text, /invalid arguments/, 'no path tricks in names')
  t.match(result(await callTool(built.app, admin, 'jenkins_list_jobs', { folder: 'nope' })).text, /folder nope was not found in Jenkins.*HTTP 404.*Error 404 Not Found/)
})

t.test('jenkins_get_build: status, duration, causes and the console tail', async t => {
  const built = await buildMcpApp(t, { env: env() })
  const { token } = await built.mint({ groups: [] })
  const last = result(await callTool(built.app, token, 'jenkins_get_build', { job: 'eng/build-app', console_lines: 5 }))
  t.notOk(last.isError, last.text)
  t.match(last.data, { job: 'eng/build-app', number: 2, status: 'failure', result: 'FAILURE', building: false, duration_ms: 61000, causes: ['Started by timer'], requested_by: null })
  t.same(last.data.console_tail, ['step 117', 'step 118', 'step 119', 'step 120', 'Finished: FAILURE'])
  t.match(last.text, /^eng\/build-app #2: failure, 61 s, started 2026-01-05T10:00:00.000Z\ncauses: Started by timer\n\nlast 5 console line\(s\):\nstep 117/)
  const first = result(await callTool(built.app, token, 'jenkins_get_build', { job: 'eng/build-app', build: 1, console_lines: 0 }))
  t.equal(first.data.number, 1)
  t.same(first.data.console_tail, [])
  t.equal(jenkins.requests.at(-1)?.url.pathname, '/job/eng/job/build-app/1/api/json', 'no console read when 0 lines are asked for')
  const none = result(await callTool(built.app, token, 'jenkins_get_build', { job: 'ops/deploy' }))
  t.match(none.text, /build lastBuild of job ops\/deploy was not found in Jenkins/)
  t.equal(jobPath('a b/c'), '/job/a%20b/job/c')
  t.equal(jenkinsErrorMessage({ message: 'm' }, ''), 'm')
  t.equal(jenkinsErrorMessage(undefined, 'plain'), undefined)
})

t.test('jenkins_trigger_build: checked parameters, who asked, queue item to build number, crumb', async t => {
  const logLines: string[] = []
  const built = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: ACCESS }), logLines })
  const alice = (await built.mint({ sub: 'alice-sub', email: 'alice@example.com', groups: ['engineering', 'admins'], clientId: 'client-a' })).token
  jenkins.csrf = true
  t.teardown(() => { jenkins.csrf = false })
  const started = result(await callTool(built.app, alice, 'jenkins_trigger_build', { job: 'eng/build-app', parameters: { TARGET: 'staging', DRY_RUN: true, BRANCH: 'main' } }))
  t.notOk(started.isError, started.text)
  t.match(started.data, { job: 'eng/build-app', status: 'started', build_number: 3, requested_by: 'alice@example.com (alice-sub)' })
  t.equal(started.text, 'started eng/build-app #3 for alice@example.com (alice-sub)')
  const job = jenkins.find('eng/build-app') as { builds: Array<{ parameters: Array<{ name: string, value: unknown }> }> }
  t.same(job.builds.at(-1)?.parameters, [
    { name: 'GATEHOUSE_REQUESTED_BY', value: 'alice@example.com (alice-sub)' },
    { name: 'TARGET', value: 'staging' },
    { name: 'DRY_RUN', value: 'true' },
    { name: 'BRANCH', value: 'main' },
    { name: 'UPLOAD', value: '' }
  ])
  const posts = jenkins.requests.filter(r => r.method === 'POST')
  t.equal(posts.at(-2)?.headers['jenkins-crumb'], undefined, 'the first POST had no crumb and was refused')
  t.type(posts.at(-1)?.headers['jenkins-crumb'], 'string', 'the retry carried the crumb')
  t.match(posts.at(-1)?.headers.cookie, /^JSESSIONID\.fake01=/, 'and the session cookie the crumb belongs to')

  const read = result(await callTool(built.app, alice, 'jenkins_get_build', { job: 'eng/build-app', build: 3 }))
  t.equal(read.data.requested_by, 'alice@example.com (alice-sub)')
  t.match(read.text, /requested by alice@example\.com/)

  const bad = result(await callTool(built.app, alice, 'jenkins_trigger_build', { job: 'eng/build-app', parameters: { TARGET: 'moon', DRY_RUN: 'maybe', NOPE: 'x', UPLOAD: 'f', GATEHOUSE_REQUESTED_BY: 'mallory' } }))
  t.equal(bad.isError, true)
  t.match(bad.text, /TARGET must be one of "staging", "production"; DRY_RUN must be true or false; unknown parameter NOPE; UPLOAD is a FileParameterDefinition that this tool cannot set; GATEHOUSE_REQUESTED_BY is set by gatehouse \(the job takes: TARGET, DRY_RUN, BRANCH, UPLOAD\)/)
  const legacy = result(await callTool(built.app, alice, 'jenkins_trigger_build', { job: 'legacy' }))
  t.match(legacy.text, /job legacy has no GATEHOUSE_REQUESTED_BY string parameter/)

  jenkins.queuePolls = 1000
  t.teardown(() => { jenkins.queuePolls = 1 })
  const queued = result(await callTool(built.app, alice, 'jenkins_trigger_build', { job: 'ops/deploy', wait_for_start: false }))
  t.match(queued.data, { status: 'queued', build_number: null })
  t.match(queued.text, /ops\/deploy is queued \(queue item \d+\)/)

  const carolBuilt = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: ACCESS, CONNECTOR_WRITE_GROUPS: 'engineering' }) })
  const carol = (await carolBuilt.mint({ groups: ['engineering'] })).token
  t.match(result(await callTool(carolBuilt.app, carol, 'jenkins_trigger_build', { job: 'ops/deploy' })).text, /no access to job ops\/deploy/)

  const events = logLines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.audit === 'connector.call' && l.tool === 'jenkins_trigger_build')
  t.match(events[0], { sub: 'alice-sub', client_id: 'client-a', target: 'job eng/build-app #3', outcome: 'ok' })
  t.match(events[1], { target: 'job eng/build-app', outcome: 'invalid' })
})
