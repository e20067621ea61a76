// The JIRA pack through the real app (/mcp with real tokens) against the fake Jira Cloud on loopback:
// read tools with paging and access filtering, writes with attribution, validation, audit events.
import t from 'tap'
import { startFakeJira } from '../support/fake-jira.ts'
import { buildMcpApp, callTool, post, rpc } from '../mcp/helpers.ts'
import { adfToText } from '../../src/connectors/jira/adf.ts'

const jira = await startFakeJira()
t.teardown(() => jira.close())

const ACCESS = JSON.stringify({ '*': { jira: ['PUB'] }, engineering: { jira: ['ENG'] }, admins: { jira: ['*'] } })
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ JIRA_BASE_URL: jira.url, JIRA_EMAIL: jira.email, JIRA_API_TOKEN: jira.token, ...extra })
const result = (res: { json: () => any }): { isError?: boolean, text: string, data: any } => {
  const body = res.json()
  return { isError: body.result?.isError, text: body.result?.content?.[0]?.text, data: body.result?.structuredContent }
}

t.test('jira_list_projects pages with startAt and passes the token back to the model', async t => {
  const built = await buildMcpApp(t, { env: env() })
  const { token } = await built.mint({ groups: [] })
  const first = result(await callTool(built.app, token, 'jira_list_projects', { max_results: 3 }))
  t.notOk(first.isError, first.text)
  t.same(first.data.projects.map((p: { key: string }) => p.key), ['ENG', 'OPS', 'PUB'])
  t.equal(first.data.next_page_token, '3')
  t.match(first.text, /next_page_token "3"/)
  t.match(first.text, /ENG {2}Engineering/)
  const second = result(await callTool(built.app, token, 'jira_list_projects', { max_results: 3, next_page_token: '3' }))
  t.same(second.data.projects.map((p: { key: string }) => p.key), ['SEC'])
  t.equal(second.data.next_page_token, undefined, 'the last page has no token')
  const sent = jira.requests.filter(r => r.url.pathname === '/rest/api/3/project/search').at(-1)
  t.equal(sent?.url.searchParams.get('startAt'), '3')
  t.match(sent?.headers.authorization, /^Basic /)
})

t.test('CONNECTOR_ACCESS filters projects and search results and refuses direct access', async t => {
  const built = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: ACCESS }) })
  const bob = (await built.mint({ sub: 'bob', groups: [] })).token
  const eng = (await built.mint({ sub: 'carol', groups: ['engineering'] })).token
  const admin = (await built.mint({ sub: 'alice', groups: ['admins'] })).token
  const keys = async (token: string): Promise<string[]> => result(await callTool(built.app, token, 'jira_list_projects', {})).data.projects.map((p: { key: string }) => p.key)
  t.same(await keys(bob), ['PUB'], 'everyone: PUB only')
  t.same(await keys(eng), ['ENG', 'PUB'])
  t.same(await keys(admin), ['ENG', 'OPS', 'PUB', 'SEC'])

  const searched = result(await callTool(built.app, bob, 'jira_search', { jql: 'project in (ENG, SEC, PUB) ORDER BY key' }))
  t.notOk(searched.isError, searched.text)
  t.same(searched.data.issues.map((i: { key: string }) => i.key), ['PUB-1'], 'search is limited to reachable projects')
  const jql = jira.requests.filter(r => r.url.pathname === '/rest/api/3/search/jql').at(-1)?.url.searchParams.get('jql')
  t.equal(jql, 'project in ("PUB") AND (project in (ENG, SEC, PUB)) ORDER BY key', 'the restriction is added to the JQL')

  // An OR that tries to escape the restriction stays inside the parentheses; quotes do not split ORDER BY.
  const escape = result(await callTool(built.app, bob, 'jira_search', { jql: 'summary ~ "order by" OR project = SEC' }))
  t.same(escape.data.issues, [], 'nothing from SEC')

  const direct = result(await callTool(built.app, bob, 'jira_get_issue', { key: 'SEC-1' }))
  t.equal(direct.isError, true)
  t.match(direct.text, /no access to issue SEC-1/)
  t.equal(direct.data.error, 'denied')
  const before = jira.requests.length
  const comment = result(await callTool(built.app, admin, 'jira_add_comment', { key: 'PUB-1', body: 'fine' }))
  t.notOk(comment.isError, 'admins reach every project')
  t.ok(jira.requests.length > before)

  const none = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: JSON.stringify({ admins: { jira: ['*'] } }) }) })
  const nobody = (await none.mint({ groups: [] })).token
  t.match(result(await callTool(none.app, nobody, 'jira_list_projects', {})).text, /no access to any JIRA project/)
  t.match(result(await callTool(none.app, nobody, 'jira_search', { jql: 'project = PUB' })).text, /no access to any JIRA project/)
})

t.test('jira_search: JQL through /search/jql with nextPageToken paging and chosen fields', async t => {
  const built = await buildMcpApp(t, { env: env() })
  const { token } = await built.mint({ groups: [] })
  const first = result(await callTool(built.app, token, 'jira_search', { jql: 'project = ENG ORDER BY key', max_results: 5 }))
  t.notOk(first.isError, first.text)
  t.equal(first.data.issues.length, 5)
  t.match(first.data.issues[0], { key: 'ENG-1', summary: 'Engineering task 1', status: 'To Do', issuetype: 'Task', url: `${jira.url}/browse/ENG-1` })
  t.type(first.data.next_page_token, 'string')
  t.match(first.text, /ENG-1 {2}\[To Do\] {2}Engineering task 1/)
  const second = result(await callTool(built.app, token, 'jira_search', { jql: 'project = ENG ORDER BY key', max_results: 5, next_page_token: first.data.next_page_token }))
  t.same(second.data.issues.map((i: { key: string }) => i.key), ['ENG-6', 'ENG-7'])
  t.equal(second.data.next_page_token, undefined)

  const chosen = result(await callTool(built.app, token, 'jira_search', { jql: 'project = ENG AND status = "In Progress"', fields: ['summary', 'description'] }))
  t.same(Object.keys(chosen.data.issues[0]).sort(), ['description', 'key', 'summary', 'url'])
  t.equal(chosen.data.issues[0].description, 'Details of engineering task 2.', 'ADF turned into text')
  const sent = jira.requests.filter(r => r.url.pathname === '/rest/api/3/search/jql').at(-1)
  t.equal(sent?.url.searchParams.get('fields'), 'summary,description')

  const unbounded = result(await callTool(built.app, token, 'jira_search', { jql: 'ORDER BY created' }))
  t.equal(unbounded.isError, true)
  t.match(unbounded.text, /rejected the request .*HTTP 400.*Unbounded JQL/, 'the upstream message reaches the model')
  const bad = result(await callTool(built.app, token, 'jira_search', { jql: 'project = = ENG' }))
  t.match(bad.text, /Error in the JQL Query/)
  t.equal(bad.data.error, 'bad_request')
})

t.test('jira_get_issue: plain text, long text cut with a note, latest comments, 404', async t => {
  const built = await buildMcpApp(t, { env: env() })
  const { token } = await built.mint({ groups: [] })
  const long = 'word '.repeat(400)
  const issue = jira.issues.get('OPS-1')!
  issue.fields.description = { type: 'doc', version: 1, content: [{ type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Plan' }] }, { type: 'bulletList', content: [{ type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'first' }] }] }] }, { type: 'paragraph', content: [{ type: 'text', text: long }] }] }
  const got = result(await callTool(built.app, token, 'jira_get_issue', { key: 'ops-1', max_chars: 300 }))
  t.notOk(got.isError, got.text)
  t.equal(got.data.key, 'OPS-1')
  t.equal(got.data.description_truncated, true)
  t.match(got.data.description, /^Plan\n\n- first\n\nword word/)
  t.match(got.data.description, /\[… cut: \d+ more characters\]$/)
  t.match(got.text, /^OPS-1: Rotate the on-call schedule\nstatus To Do/)
  const missing = result(await callTool(built.app, token, 'jira_get_issue', { key: 'ENG-999' }))
  t.equal(missing.isError, true)
  t.match(missing.text, /issue ENG-999 was not found in JIRA.*Issue does not exist/)
  const invalid = result(await callTool(built.app, token, 'jira_get_issue', { key: 'not a key' }))
  t.match(invalid.text, /invalid arguments/)
})

t.test('writes name who asked, are audited, and need mcp:write plus a write group', async t => {
  const logLines: string[] = []
  const built = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: ACCESS }), logLines })
  const alice = (await built.mint({ sub: 'alice-sub', email: 'alice@example.com', groups: ['engineering', 'admins'], clientId: 'client-a' })).token
  const created = result(await callTool(built.app, alice, 'jira_create_issue', { project: 'ENG', summary: 'Created through gatehouse', description: 'Line one\nline two\n\nSecond paragraph', labels: ['gatehouse'] }))
  t.notOk(created.isError, created.text)
  const key = created.data.created.key as string
  t.match(key, /^ENG-\d+$/)
  t.equal(created.data.requested_by, 'alice@example.com (alice-sub)')
  const stored = jira.issues.get(key)!
  const text = adfToText(stored.fields.description)
  t.match(text, /^Requested by alice@example\.com \(alice-sub\) through gatehouse \(MCP client client-a\)\.\n\nLine one\nline two\n\nSecond paragraph$/)
  t.same(stored.fields.labels, ['gatehouse'])

  const commented = result(await callTool(built.app, alice, 'jira_add_comment', { key, body: 'Looks good' }))
  t.notOk(commented.isError, commented.text)
  const comments = (stored.fields.comment as { comments: Array<{ body: unknown }> }).comments
  t.match(adfToText(comments.at(-1)?.body), /^Requested by alice@example\.com \(alice-sub\) through gatehouse.*\n\nLooks good$/)

  const refused = result(await callTool(built.app, alice, 'jira_create_issue', { project: 'ENG', summary: 'x', issue_type: 'Epic' }))
  t.equal(refused.isError, true)
  t.match(refused.text, /rejected the request for project ENG \(HTTP 400\): issuetype: Specify an issue type/)
  const badInput = result(await callTool(built.app, alice, 'jira_create_issue', { project: 'ENG', summary: 'two\nlines' }))
  t.match(badInput.text, /invalid arguments/)

  // A moved issue: its old key answers with the issue in its new project, which the caller may not reach.
  jira.moved.set('ENG-100', 'SEC-1')
  const restrictedLog: string[] = []
  const restricted = await buildMcpApp(t, { env: env({ CONNECTOR_ACCESS: JSON.stringify({ engineering: { jira: ['ENG'] } }), CONNECTOR_WRITE_GROUPS: 'engineering' }), logLines: restrictedLog })
  const carol = (await restricted.mint({ sub: 'carol', groups: ['engineering'] })).token
  const sneaky = result(await callTool(restricted.app, carol, 'jira_add_comment', { key: 'ENG-100', body: 'hi' }))
  t.match(sneaky.text, /no access to issue ENG-100/, 'a write follows the issue to where it lives now')
  const sneakyRead = result(await callTool(restricted.app, carol, 'jira_get_issue', { key: 'ENG-100' }))
  t.match(sneakyRead.text, /no access to issue ENG-100/)
  t.ok(restrictedLog.some(l => l.includes('"audit":"connector.call"') && l.includes('"target":"ENG-100"') && l.includes('"outcome":"denied"')), 'refusals are audited too')

  // Without the write group: a JSON-RPC error, audited by the server; without mcp:write: the 403 step-up.
  const bob = (await built.mint({ sub: 'bob', groups: [] })).token
  const denied = (await callTool(built.app, bob, 'jira_create_issue', { project: 'PUB', summary: 'x' })).json()
  t.equal(denied.error?.code, -32003)
  const reader = (await built.mint({ groups: ['admins'], scope: ['mcp:read'] })).token
  const stepUp = await callTool(built.app, reader, 'jira_add_comment', { key: 'PUB-1', body: 'x' })
  t.equal(stepUp.statusCode, 403)
  t.match(stepUp.headers['www-authenticate'], /insufficient_scope/)
  const listed = (await post(built.app, bob, rpc('tools/list'))).json().result.tools.map((x: { name: string }) => x.name)
  t.same(listed.filter((n: string) => n.startsWith('jira_')).sort(), ['jira_get_issue', 'jira_list_projects', 'jira_search'], 'bob sees the read tools only')

  const events = logLines.map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.audit === 'connector.call')
  t.match(events, [
    { sub: 'alice-sub', client_id: 'client-a', tool: 'jira_create_issue', target: key, outcome: 'ok' },
    { sub: 'alice-sub', tool: 'jira_add_comment', target: key, outcome: 'ok' },
    { tool: 'jira_create_issue', target: 'project ENG', outcome: 'bad_request' }
  ])
})
