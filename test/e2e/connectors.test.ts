// The connectors end to end with real tokens from the real flow (the official MCP SDK client, consent and
// the development IdP): alice (admins) creates a JIRA issue and starts a Jenkins build, both attributed to
// her; bob (no groups) sees the read tools only and only the projects open to everyone; a client granted
// only mcp:read gets the 403 step-up on a write tool. Then the secrets-hygiene check over the whole run:
// neither service token appears in a log line, a tool result, an error or the store.
import t from 'tap'
import { ScanCommand } from '@aws-sdk/client-dynamodb'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { startHarness } from '../support/oauth-harness.ts'
import { TestOAuthProvider, connectWithOAuth, formWalker, type BrowserWalk } from '../support/mcp-oauth-client.ts'
import { startFakeJira } from '../support/fake-jira.ts'
import { startFakeJenkins } from '../support/fake-jenkins.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { adfToText } from '../../src/connectors/jira/adf.ts'

t.test('alice writes attributed to her, bob reads his projects only, mcp:read steps up; no token leaks', async t => {
  const jira = await startFakeJira()
  t.teardown(() => jira.close())
  const jenkins = await startFakeJenkins()
  t.teardown(() => jenkins.close())
  jenkins.csrf = true
  const logLines: string[] = []
  const h = await startHarness(t, {
    logLines,
    env: {
      JIRA_BASE_URL: jira.url, JIRA_EMAIL: jira.email, JIRA_API_TOKEN: jira.token,
      JENKINS_URL: jenkins.url, JENKINS_USER: jenkins.user, JENKINS_API_TOKEN: jenkins.token,
      CONNECTOR_ACCESS: JSON.stringify({ '*': { jira: ['PUB'], jenkins: ['eng/libs'] }, engineering: { jira: ['ENG'], jenkins: ['eng'] }, admins: { jira: ['*'], jenkins: ['*'] } })
    }
  })
  const mcpUrl = `${h.url}/mcp`
  const results: string[] = []
  const keep = <T>(value: T): T => { results.push(JSON.stringify(value)); return value }

  const alice = await connectWithOAuth(mcpUrl, new TestOAuthProvider(formWalker('alice', 'alice')))
  t.teardown(() => alice.close())
  const bob = await connectWithOAuth(mcpUrl, new TestOAuthProvider(formWalker('bob', 'bob')))
  t.teardown(() => bob.close())
  const names = async (client: typeof alice): Promise<string[]> => (await client.listTools()).tools.map(x => x.name).filter(n => n.startsWith('jira_') || n.startsWith('jenkins_')).sort()
  t.same(await names(alice), ['jenkins_get_build', 'jenkins_list_jobs', 'jenkins_trigger_build', 'jira_add_comment', 'jira_create_issue', 'jira_get_issue', 'jira_list_projects', 'jira_search'])
  t.same(await names(bob), ['jenkins_get_build', 'jenkins_list_jobs', 'jira_get_issue', 'jira_list_projects', 'jira_search'], 'bob: read tools only')

  const created = keep(await alice.callTool({ name: 'jira_create_issue', arguments: { project: 'ENG', summary: 'From the e2e run', description: 'Created by the official MCP client.' } }))
  t.notOk(created.isError, JSON.stringify(created))
  const key = (created.structuredContent as { created: { key: string } }).created.key
  t.match(adfToText(jira.issues.get(key)?.fields.description), /^Requested by alice@example\.com \(6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01\) through gatehouse \(MCP client [^)]+\)\./)
  const build = keep(await alice.callTool({ name: 'jenkins_trigger_build', arguments: { job: 'eng/build-app', parameters: { TARGET: 'staging' } } }))
  t.notOk(build.isError, JSON.stringify(build))
  t.match(build.structuredContent, { status: 'started', requested_by: 'alice@example.com (6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01)' })
  const number = (build.structuredContent as { build_number: number }).build_number
  const read = keep(await alice.callTool({ name: 'jenkins_get_build', arguments: { job: 'eng/build-app', build: number } }))
  t.match(read.structuredContent, { requested_by: 'alice@example.com (6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01)', parameters: { TARGET: 'staging' } })

  const bobProjects = keep(await bob.callTool({ name: 'jira_list_projects', arguments: {} }))
  t.same((bobProjects.structuredContent as { projects: Array<{ key: string }> }).projects.map(p => p.key), ['PUB'])
  const bobSearch = keep(await bob.callTool({ name: 'jira_search', arguments: { jql: 'project in (ENG, PUB)' } }))
  t.same((bobSearch.structuredContent as { issues: Array<{ key: string }> }).issues.map(i => i.key), ['PUB-1'])
  const bobIssue = keep(await bob.callTool({ name: 'jira_get_issue', arguments: { key } }))
  t.equal(bobIssue.isError, true, 'bob cannot open alice\'s ENG issue')
  const bobJobs = keep(await bob.callTool({ name: 'jenkins_list_jobs', arguments: {} }))
  t.same((bobJobs.structuredContent as { jobs: Array<{ full_name: string }> }).jobs.map(j => j.full_name), ['eng', 'eng/libs', 'eng/libs/lint'])
  let bobWrite: unknown
  try { await bob.callTool({ name: 'jira_create_issue', arguments: { project: 'PUB', summary: 'x' } }) } catch (error) { bobWrite = error }
  t.match(String(bobWrite), /not available to your groups/)

  // Step-up: a client granted mcp:read only is sent through authorization again by the 403.
  let first = true
  const walk = formWalker('alice', 'alice')
  const narrowing: BrowserWalk = async (url, redirect) => {
    if (first) { url.searchParams.set('scope', 'mcp:read'); first = false }
    return await walk(url, redirect)
  }
  const readerProvider = new TestOAuthProvider(narrowing, { refreshTokens: false })
  const reader = await connectWithOAuth(mcpUrl, readerProvider)
  t.teardown(() => reader.close())
  t.equal(readerProvider.tokens()?.scope, 'mcp:read')
  t.ok((await names(reader)).includes('jira_search') && !(await names(reader)).includes('jira_create_issue'), 'read tools only before the step-up')
  let stepUp: unknown
  try { await reader.callTool({ name: 'jira_add_comment', arguments: { key, body: 'x' } }) } catch (error) { stepUp = error }
  t.type(stepUp, UnauthorizedError, 'the 403 insufficient_scope sent the client through authorization again')
  t.equal(readerProvider.authorizationUrls[1]?.searchParams.get('scope'), 'mcp:read mcp:write')

  // A failing call whose upstream error page echoes the token: the message is scrubbed.
  jira.faults.push({ kind: 'answer', answer: { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorMessages: [`bad token ${jira.token} in ${Buffer.from(`${jira.email}:${jira.token}`).toString('base64')}`] }) } })
  const echoed = keep(await alice.callTool({ name: 'jira_get_issue', arguments: { key } }))
  t.match(JSON.stringify(echoed), /bad token \[redacted\] in \[redacted\]/)

  await new Promise(resolve => setTimeout(resolve, 100))
  const audit = logLines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.audit === 'connector.call')
  t.ok(audit.some(e => e.tool === 'jira_create_issue' && e.target === key && e.outcome === 'ok' && e.sub === '6f1c3a52-4d0e-4b8a-9a61-2f7a1c0e5b01' && typeof e.client_id === 'string'), 'the create is audited with user, client, target, outcome')
  t.ok(audit.some(e => e.tool === 'jenkins_trigger_build' && e.target === `job eng/build-app #${number}`), 'the build too')

  const secrets = new Map([[jira.token, 'JIRA API token'], [jenkins.token, 'Jenkins API token'],
    [Buffer.from(`${jira.email}:${jira.token}`).toString('base64'), 'JIRA Basic credentials'], [Buffer.from(`${jenkins.user}:${jenkins.token}`).toString('base64'), 'Jenkins Basic credentials']])
  const leaks = (haystack: string[]): string[] => [...secrets].filter(([value]) => haystack.some(s => s.includes(value))).map(([, what]) => what)
  t.ok(logLines.length > 20, `${logLines.length} log lines captured`)
  t.same(leaks(logLines), [], 'no service token in any log line')
  t.same(leaks(results), [], 'no service token in any tool result or error')
  const client = createDynamoClient({ region: 'us-east-1', endpoint: h.store.endpoint })
  t.teardown(() => client.destroy())
  const items = (await client.send(new ScanCommand({ TableName: h.store.table }))).Items ?? []
  t.ok(items.length > 0)
  t.same(leaks([JSON.stringify(items)]), [], 'none in the store')
  t.ok(jira.requests.every(r => r.headers.authorization === `Basic ${Buffer.from(`${jira.email}:${jira.token}`).toString('base64')}`), 'the fakes did receive the credentials (so the check is meaningful)')
})
