// The MCP conformance suite's 2026-07-28 requirements (conformance-next 0.2.0-alpha.12, `server --requirements
// 2026-07-28`) against the real /mcp behind the bearer proxy (issue 13). Before the 2026 era existed 11 of 157
// checks passed; now every check that does not need the suite's reference fixtures passes, and this test
// keeps it so: the generic scenarios must pass in full, server-stateless may miss only the checks it marks
// "Not testable" (they need reference tools such as test_missing_capability), and every other failing check
// must be one that calls a reference tool, resource, prompt or extension gatehouse does not serve.
// (The fixture module that would serve them in the test app only is not written yet: see issue 13.)
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildMcpApp } from '../mcp/helpers.ts'
import { startBearerProxy } from '../support/bearer-proxy.ts'

const ENTRY = fileURLToPath(new URL('../../node_modules/conformance-next/dist/index.js', import.meta.url))
const MUST_PASS = ['server-http-header-validation', 'server-tools-list', 'server-dns-rebinding-protection']
/** Failures that only mean "the suite's reference fixture is not served here". */
const FIXTURE_ONLY = /Unknown tool|Method not found|Not testable|not found\. Available tools|got -32601|Prerequisite failed|Expected InputRequiredResult|instead of re-requesting|capabilities\.extensions MUST be advertised|fixture from Check|spec requires -32021|data\.uri is undefined/

interface Check { id: string, status: string, errorMessage?: string }

t.test('conformance --requirements 2026-07-28: everything not needing reference fixtures passes', async t => {
  const mcp = await buildMcpApp(t, { listen: true, env: { DOWNSTREAM_URL: 'http://127.0.0.1:9/api' } })
  const { token } = await mcp.mint({ sub: 'conformance-user', groups: ['admins'], scope: ['mcp:read', 'mcp:write'] })
  const proxy = await startBearerProxy({ target: mcp.url, token })
  t.teardown(() => proxy.close())
  const out = await mkdtemp(join(tmpdir(), 'gatehouse-conformance-2026-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))
  const child = spawn(process.execPath, [ENTRY, 'server', '--url', `${proxy.url}/mcp`, '--requirements', '2026-07-28', '-o', out, '--timeout', '8000'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  child.stdout.resume()
  child.stderr.resume()
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
  const signal = await new Promise(resolve => child.once('close', (_code, s) => resolve(s)))
  clearTimeout(timer)
  t.equal(signal, null, 'the run finished')

  const byScenario = new Map<string, Check[]>()
  for (const dir of await readdir(out)) {
    byScenario.set(dir.replace(/-\d{4}-\d{2}-\d{2}T.*$/, ''), JSON.parse(await readFile(join(out, dir, 'checks.json'), 'utf8')) as Check[])
  }
  const bad = (checks: Check[]) => checks.filter(c => c.status === 'FAILURE' || c.status === 'WARNING')
  let passed = 0
  for (const checks of byScenario.values()) passed += checks.filter(c => c.status === 'SUCCESS').length
  t.comment(`${passed} checks passed in ${byScenario.size} scenarios`)
  t.ok(passed >= 99, 'at least the 99 checks that passed when this test was written')
  for (const scenario of MUST_PASS) t.same(bad(byScenario.get(scenario) ?? [{ id: 'missing', status: 'FAILURE' }]).map(c => c.id), [], `${scenario} passes in full`)
  t.same(bad(byScenario.get('server-server-stateless') ?? []).filter(c => !/^Not testable/.test(c.errorMessage ?? '')).map(c => `${c.id}: ${c.errorMessage}`), [], 'server-stateless: only the fixture-dependent checks are missing')
  const otherCause: string[] = []
  for (const [scenario, checks] of byScenario) {
    for (const check of bad(checks)) if (!FIXTURE_ONLY.test(check.errorMessage ?? '')) otherCause.push(`${scenario} ${check.id}: ${check.errorMessage}`)
  }
  t.same(otherCause, [], 'every other failure is a reference fixture gatehouse does not serve')
  t.notOk(proxy.requests.some(r => r.status === 500), 'no request was answered with a 500')
})
