// Faults between gatehouse and the upstreams: down, slow, 429 (one Retry-After honoured within the time
// limit), 401/403, 500, garbage, cut connections. Each is a tool error the model can act on, in an HTTP 200
// JSON-RPC answer: never a 5xx from /mcp. Also: not configured = no change, and tokens read by ARN (from a real
// AWS emulator's Secrets Manager: moto, test/support/aws-emulator.ts; that test is skipped, and counted as
// skipped, without moto).
import t from 'tap'
import { startFakeJira } from '../support/fake-jira.ts'
import { startFakeJenkins } from '../support/fake-jenkins.ts'
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager'
import { emulatorUnavailable, startAwsEmulator } from '../support/aws-emulator.ts'
import { freePort } from '../support/net.ts'
import { buildMcpApp, callTool, post, rpc } from '../mcp/helpers.ts'
import { json } from '../support/fake-http.ts'
import { loadConfig } from '../../src/config.ts'
import { connectorTools } from '../../src/connectors/index.ts'
import { retryAfterMs } from '../../src/connectors/upstream-http.ts'
import { splitOrderBy } from '../../src/connectors/jira/tools.ts'
import { adfToText, textToAdf } from '../../src/connectors/jira/adf.ts'
import { tokenSource } from '../../src/connectors/credentials.ts'

const jira = await startFakeJira()
t.teardown(() => jira.close())
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: jira.email, JIRA_API_TOKEN: jira.token, ...extra })
const call = async (built: Awaited<ReturnType<typeof buildMcpApp>>, token: string, name: string, args: Record<string, unknown>) => {
  const res = await callTool(built.app, token, name, args)
  const body = res.json()
  return { status: res.statusCode, isError: body.result?.isError as boolean | undefined, text: String(body.result?.content?.[0]?.text ?? JSON.stringify(body)), kind: body.result?.structuredContent?.error as string | undefined }
}

t.test('upstream down, slow, cut off: unreachable and timeout tool errors', async t => {
  const port = await freePort()
  const down = await buildMcpApp(t, { env: env({ JIRA_BASE_URL: `http://127.0.0.1:${port}` }) })
  const { token } = await down.mint()
  const refused = await call(down, token, 'jira_list_projects', {})
  t.equal(refused.status, 200)
  t.equal(refused.isError, true)
  t.equal(refused.kind, 'unreachable')
  t.match(refused.text, /JIRA is unreachable at the moment; try again later/)

  const slow = await buildMcpApp(t, { env: env({ CONNECTOR_TIMEOUT_MS: '500' }) })
  const slowToken = (await slow.mint()).token
  jira.faults.push({ kind: 'delay', ms: 2000 })
  const started = Date.now()
  const late = await call(slow, slowToken, 'jira_get_issue', { key: 'ENG-1' })
  t.ok(Date.now() - started < 1800, 'answered within the time limit, not when the upstream did')
  t.equal(late.kind, 'timeout')
  t.match(late.text, /JIRA did not answer in time \(issue ENG-1\)/)

  jira.faults.push({ kind: 'reset' })
  const reset = await call(slow, slowToken, 'jira_get_issue', { key: 'ENG-1' })
  t.equal(reset.kind, 'unreachable')
})

t.test('429: Retry-After honoured once within the time limit, otherwise said to the model', async t => {
  const built = await buildMcpApp(t, { env: env() })
  const { token } = await built.mint()
  const before = jira.requests.length
  jira.faults.push({ kind: 'answer', answer: json(429, { errorMessages: ['Rate limit exceeded.'] }, { 'retry-after': '1' }) })
  const started = Date.now()
  const retried = await call(built, token, 'jira_get_issue', { key: 'ENG-1' })
  t.notOk(retried.isError, retried.text)
  t.ok(Date.now() - started >= 950, 'waited for Retry-After')
  t.equal(jira.requests.length - before, 2, 'one retry')

  jira.faults.push({ kind: 'answer', answer: json(429, {}, { 'retry-after': '1' }) }, { kind: 'answer', answer: json(429, {}, { 'retry-after': '1' }) })
  const twice = await call(built, token, 'jira_get_issue', { key: 'ENG-1' })
  t.equal(twice.kind, 'rate_limited', 'only once')
  t.match(twice.text, /rate limiting requests; try again in 1 s/)

  jira.faults.push({ kind: 'answer', answer: json(429, {}, { 'retry-after': '120' }) })
  const count = jira.requests.length
  const long = await call(built, token, 'jira_get_issue', { key: 'ENG-1' })
  t.match(long.text, /try again in 120 s/, 'a wait past the time limit is not attempted')
  t.equal(jira.requests.length - count, 1)

  jira.faults.push({ kind: 'answer', answer: json(429, {}) })
  t.match((await call(built, token, 'jira_get_issue', { key: 'ENG-1' })).text, /rate limiting requests$/)
  t.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:30 GMT')), 30000)
  t.equal(retryAfterMs('soon'), undefined)
})

t.test('401, 403, 500 and garbage answers', async t => {
  const wrong = await buildMcpApp(t, { env: env({ JIRA_API_TOKEN: 'not-the-token' }) })
  const w = (await wrong.mint()).token
  const denied = await call(wrong, w, 'jira_list_projects', {})
  t.equal(denied.kind, 'credentials')
  t.match(denied.text, /JIRA refused the service account's credentials \(HTTP 401\); an operator must check/)

  const built = await buildMcpApp(t, { env: env() })
  const { token } = await built.mint({ groups: ['admins'] })
  jira.faults.push({ kind: 'answer', answer: json(403, { errorMessages: ['You do not have permission to create issues in this project.'], errors: {} }) })
  const forbidden = await call(built, token, 'jira_create_issue', { project: 'OPS', summary: 'x' })
  t.equal(forbidden.kind, 'forbidden')
  t.match(forbidden.text, /the JIRA service account lacks permission for project OPS \(HTTP 403\): You do not have permission/)

  jira.faults.push({ kind: 'answer', answer: { status: 500, body: '<html>java.lang.NullPointerException at com.atlassian…</html>' } })
  const failed = await call(built, token, 'jira_search', { jql: 'project = ENG' })
  t.equal(failed.status, 200)
  t.equal(failed.kind, 'upstream_error')
  t.equal(failed.text, 'JIRA failed with HTTP 500; try again later', 'nothing of the upstream\'s internals')

  jira.faults.push({ kind: 'answer', answer: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"values": [' } })
  t.equal((await call(built, token, 'jira_list_projects', {})).kind, 'bad_answer')
  jira.faults.push({ kind: 'answer', answer: json(200, { values: 'nope' }) })
  t.match((await call(built, token, 'jira_list_projects', {})).text, /JIRA sent an unexpected answer for the project list/)
  jira.faults.push({ kind: 'answer', answer: json(200, 42) })
  t.equal((await call(built, token, 'jira_get_issue', { key: 'ENG-1' })).kind, 'bad_answer')
  jira.faults.push({ kind: 'answer', answer: { status: 200, body: 'x'.repeat(3 * 1024 * 1024) } })
  t.match((await call(built, token, 'jira_get_issue', { key: 'ENG-1' })).text, /exceeds \d+ bytes/)
  jira.faults.push({ kind: 'answer', answer: { status: 302, headers: { location: 'http://169.254.169.254/' } } })
  t.match((await call(built, token, 'jira_get_issue', { key: 'ENG-1' })).text, /JIRA sent an answer that is not the expected JSON \(HTTP 302\)/, 'redirects are not followed')
  jira.faults.push({ kind: 'answer', answer: json(418, { errorMessages: ['teapot'] }) })
  t.match((await call(built, token, 'jira_get_issue', { key: 'ENG-1' })).text, /JIRA answered HTTP 418 for issue ENG-1: teapot/)
})

t.test('Jenkins faults: 500, garbage queue, a POST refused without a crumb request', async t => {
  const jenkins = await startFakeJenkins()
  t.teardown(() => jenkins.close())
  const built = await buildMcpApp(t, { env: { JENKINS_URL: jenkins.url, JENKINS_USER: jenkins.user, JENKINS_API_TOKEN: jenkins.token } })
  const { token } = await built.mint({ groups: ['admins'] })
  jenkins.faults.push({ kind: 'answer', answer: { status: 503, body: '<html><title>Jenkins is getting ready to work</title></html>' } })
  t.match((await call(built, token, 'jenkins_list_jobs', {})).text, /Jenkins failed with HTTP 503; try again later/)
  // The job check passes, the POST is answered 201 without a queue Location.
  jenkins.faults.push({ kind: 'delay', ms: 0 }, { kind: 'answer', answer: { status: 201 } })
  t.match((await call(built, token, 'jenkins_trigger_build', { job: 'ops/deploy' })).text, /did not say where it was queued/)
  jenkins.faults.push({ kind: 'delay', ms: 0 }, { kind: 'answer', answer: { status: 403, body: '<html><title>Error 403 Access Denied</title></html>' } })
  const forbidden = await call(built, token, 'jenkins_trigger_build', { job: 'ops/deploy' })
  t.match(forbidden.text, /the Jenkins service account lacks permission for job ops\/deploy \(HTTP 403\): Error 403 Access Denied/)
  jenkins.faults.push({ kind: 'delay', ms: 0 }, { kind: 'answer', answer: { status: 403, body: 'No valid crumb was included in the request' } }, { kind: 'answer', answer: json(200, { crumb: 5 }) })
  t.match((await call(built, token, 'jenkins_trigger_build', { job: 'ops/deploy' })).text, /unexpected answer for the CSRF crumb/)
  jenkins.faults.push({ kind: 'delay', ms: 0 }, { kind: 'delay', ms: 0 }, { kind: 'answer', answer: json(200, { id: 'x' }) })
  t.match((await call(built, token, 'jenkins_trigger_build', { job: 'ops/deploy' })).text, /unexpected answer for queue item/)
  const disabled = jenkins.find('ops/deploy') as { buildable: boolean }
  disabled.buildable = false
  t.match((await call(built, token, 'jenkins_trigger_build', { job: 'ops/deploy' })).text, /job ops\/deploy is disabled/)
  disabled.buildable = true
})

t.test('not configured: no connector tools, nothing else changes; half a configuration fails at start', async t => {
  const plain = await buildMcpApp(t)
  const { token } = await plain.mint({ groups: ['admins'] })
  const names = (await post(plain.app, token, rpc('tools/list'))).json().result.tools.map((x: { name: string }) => x.name).sort()
  t.same(names, ['add_record', 'query_data', 'whoami'])
  t.equal(plain.config.connectors.jira, undefined)
  t.same(connectorTools(plain.config.connectors, { audit: { event: () => {} } }), [])

  const bad = (extra: Record<string, string>): string => { try { loadConfig(extra); return '' } catch (e) { return (e as Error).message } }
  t.match(bad({ JIRA_BASE_URL: 'https://x.atlassian.net' }), /JIRA_EMAIL: required with JIRA_BASE_URL[\s\S]*JIRA_API_TOKEN_ARN: required/)
  t.match(bad({ JENKINS_USER: 'u' }), /JENKINS_URL: required when JENKINS_USER/)
  t.match(bad({ JENKINS_URL: 'http://jenkins.internal', JENKINS_USER: 'u', JENKINS_API_TOKEN: 'x' }), /JENKINS_URL: must be https unless it is a loopback address/)
  t.match(bad({ CONNECTOR_ACCESS: '{"admins": {"jira": "ENG"}}' }), /CONNECTOR_ACCESS: must be a JSON object/)
  t.match(bad({ CONNECTOR_ACCESS: 'not json' }), /CONNECTOR_ACCESS/)
  const ok = loadConfig({ JIRA_BASE_URL: 'https://x.atlassian.net/', JIRA_EMAIL: 'a@b.c', JIRA_API_TOKEN_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jira-AbCdEf', CONNECTOR_WRITE_GROUPS: 'admins, release' })
  t.same(ok.connectors.jira, { baseUrl: 'https://x.atlassian.net', user: 'a@b.c', apiToken: undefined, apiTokenArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jira-AbCdEf' })
  t.same(ok.connectors.writeGroups, ['admins', 'release'])
})

const unavailable = await emulatorUnavailable({ moto: true })

t.test('a token by ARN is read on first use; an empty or missing secret is a tool error until it is stored', { skip: unavailable === undefined ? false : `no AWS emulator (${unavailable})` }, async t => {
  const aws = await startAwsEmulator({ moto: true })
  t.teardown(() => aws.stop())
  const arn = (await aws.secretsManager().send(new CreateSecretCommand({ Name: 'jira-token', SecretString: jira.token }))).ARN!
  const config = loadConfig({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: jira.email, JIRA_API_TOKEN_ARN: arn })
  const events: Array<Record<string, unknown>> = []
  const tools = connectorTools(config.connectors, { audit: { event: (_n, f) => { events.push(f) } }, secrets: { secretsManager: () => aws.secretsManager() } })
  const list = tools.find(x => x.name === 'jira_list_projects')!
  const caller = { sub: 's', groups: [], scopes: ['mcp:read'], clientId: 'c', issuer: 'i', expiresAt: 0 }
  const answer = await list.handler({} as never, { caller, deps: {} as never, signal: new AbortController().signal })
  t.notOk(answer.isError, JSON.stringify(answer))

  const missing = loadConfig({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: jira.email, JIRA_API_TOKEN_ARN: arn.replace('jira-token', 'not-stored') })
  const failing = connectorTools(missing.connectors, { audit: { event: () => {} }, secrets: { secretsManager: () => aws.secretsManager() } }).find(x => x.name === 'jira_list_projects')!
  const refused = await failing.handler({} as never, { caller, deps: {} as never, signal: new AbortController().signal })
  t.equal(refused.isError, true)
  t.match((refused.content[0] as { text: string }).text, /the JIRA API token could not be read \(an operator must store it in the configured secret\)/)

  let reads = 0
  const source = tokenSource({ baseUrl: '', user: '', apiToken: undefined, apiTokenArn: arn }, { secretsManager: () => { reads++; return aws.secretsManager() } })
  t.equal(await source(), jira.token)
  t.equal(await source(), jira.token)
  t.equal(reads, 1, 'read once, then kept')
})

t.test('JQL, ADF helpers', async t => {
  t.same(splitOrderBy('project = A order by key'), { where: 'project = A', orderBy: 'order by key' })
  t.same(splitOrderBy('summary ~ "x order by y"'), { where: 'summary ~ "x order by y"', orderBy: '' })
  t.same(splitOrderBy("summary ~ 'it\\'s' ORDER BY created DESC"), { where: "summary ~ 'it\\'s'", orderBy: 'ORDER BY created DESC' })
  const doc = { type: 'doc', version: 1, content: [
    { type: 'paragraph', content: [{ type: 'text', text: 'Hi ' }, { type: 'mention', attrs: { text: '@bob' } }, { type: 'emoji', attrs: { shortName: ':smile:' } }, { type: 'hardBreak' }, { type: 'inlineCard', attrs: { url: 'https://x' } }, { type: 'status', attrs: { text: 'DONE' } }, { type: 'date', attrs: { timestamp: '1767225600000' } }] },
    { type: 'orderedList', content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'one' }] }] }] },
    { type: 'codeBlock', content: [{ type: 'text', text: 'npm test' }] },
    { type: 'blockquote', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'quoted' }] }] },
    { type: 'rule' },
    { type: 'table', content: [{ type: 'tableRow', content: [{ type: 'tableCell', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'a' }] }] }, { type: 'tableCell', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'b' }] }] }] }] },
    { type: 'panel', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'note' }] }] },
    { type: 'unknownThing', content: [{ type: 'text', text: 'kept' }] }
  ] }
  t.equal(adfToText(doc), 'Hi @bob:smile:\nhttps://x[DONE]2026-01-01\n\n1. one\n\n```\nnpm test\n```\n\n> quoted\n\n---\n\na | b\n\nnote\n\nkept')
  t.equal(adfToText('plain'), 'plain')
  t.equal(adfToText(null), '')
  t.same(textToAdf('a\n\n\nb\r\nc'), { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'a' }] }, { type: 'paragraph', content: [{ type: 'text', text: 'b' }, { type: 'hardBreak' }, { type: 'text', text: 'c' }] }] })
})
