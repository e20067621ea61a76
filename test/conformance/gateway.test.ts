// The official MCP conformance suite's server scenarios through the gateway (issue 14): a bearer proxy adds a
// token for <A>/mcp/conf to every request; gatehouse A forwards /mcp/conf to gatehouse B, a resource server
// (GATEHOUSE_MODE=resource-server) that trusts A as its issuer and B's URL as the audience, so it accepts the
// gateway's backend JWTs, never the client's token, and serves the suite's fixtures. The result must be what
// the suite gives for gatehouse's own /mcp: the same baseline (expected-failures.yml), nothing else failing.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildMcpApp } from '../mcp/helpers.ts'
import { startBearerProxy } from '../support/bearer-proxy.ts'
import { conformanceFixtures } from '../support/conformance-fixtures.ts'
import { freePort } from '../support/net.ts'

const BASELINE = fileURLToPath(new URL('./expected-failures.yml', import.meta.url))

function conformanceBin (): string {
  const require = createRequire(import.meta.url)
  const manifestPath = require.resolve('@modelcontextprotocol/conformance/package.json')
  const manifest = require(manifestPath) as { bin: { conformance: string } }
  return join(dirname(manifestPath), manifest.bin.conformance)
}

async function runConformance (args: string[]): Promise<{ code: number | null, stdout: string }> {
  const child = spawn(process.execPath, [conformanceBin(), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.resume()
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  try {
    return await new Promise((resolve, reject) => { child.once('error', reject); child.once('close', code => resolve({ code, stdout })) })
  } finally {
    clearTimeout(timer)
  }
}

interface Check { id: string, status: string, errorMessage?: string }

t.test('MCP conformance server scenarios through the gateway match gatehouse\'s own baseline', async t => {
  const baseline = new Set([...(await readFile(BASELINE, 'utf8')).matchAll(/^\s+-\s+([^\s#]+)/gm)].map(m => m[1] as string))
  const listed = await runConformance(['list', '--server'])
  const scenarios = [...listed.stdout.matchAll(/^\s+-\s+(\S+)/gm)].map(m => m[1] as string)

  const [portA, portB] = await Promise.all([freePort(), freePort()])
  const backendUrl = `http://127.0.0.1:${portB}/mcp`
  await buildMcpApp(t, { listen: true, port: portB, env: { GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: `http://127.0.0.1:${portA}`, TRUSTED_AUDIENCES: backendUrl, DOWNSTREAM_URL: 'http://127.0.0.1:9/api' }, mcpExtension: conformanceFixtures() })
  const front = await buildMcpApp(t, { listen: true, port: portA, env: { GATEHOUSE_BACKENDS: JSON.stringify({ conf: { url: backendUrl } }) } })
  const { token } = await front.mint({ sub: 'conformance-user', email: 'conformance@example.com', groups: ['admins'], scope: ['mcp:read', 'mcp:write'], resource: `${front.url}/mcp/conf` })
  const proxy = await startBearerProxy({ target: front.url, token })
  t.teardown(() => proxy.close())
  const outDir = await mkdtemp(join(tmpdir(), 'gatehouse-conformance-gateway-'))
  t.teardown(() => rm(outDir, { recursive: true, force: true }))

  const run = await runConformance(['server', '--url', `${proxy.url}/mcp/conf`, '--suite', 'all', '--expected-failures', BASELINE, '-o', outDir])
  const failing = (checks: Check[]): string[] => checks.filter(c => c.status === 'FAILURE' || c.status === 'WARNING').map(c => `${c.id} ${c.status}: ${c.errorMessage ?? ''}`)
  const results = new Map<string, Check[]>()
  for (const dir of await readdir(outDir)) {
    const scenario = scenarios.filter(s => dir.startsWith(`server-${s}-`)).sort((a, b) => b.length - a.length)[0]
    if (scenario !== undefined) results.set(scenario, JSON.parse(await readFile(join(outDir, dir, 'checks.json'), 'utf8')) as Check[])
  }
  t.ok(scenarios.length > 20, `the suite lists its server scenarios (${scenarios.length})`)
  t.same(scenarios.filter(s => !results.has(s)), [], 'every server scenario ran')
  t.comment(`through the gateway: ${[...results.values()].filter(checks => failing(checks).length === 0).length} of ${results.size} scenarios pass; baseline ${baseline.size}`)
  const unexpected = Object.fromEntries([...results].filter(([s, checks]) => !baseline.has(s) && failing(checks).length > 0).map(([s, checks]) => [s, failing(checks)]))
  t.same(unexpected, {}, 'every scenario outside the baseline passes through the gateway')
  t.ok(['server-initialize', 'ping', 'tools-list', 'tools-call-with-progress', 'tools-call-sampling'].every(s => results.has(s) && failing(results.get(s)!).length === 0), 'initialize, ping, tools, progress and sampling pass through it')
  const polling = (results.get('server-sse-polling') ?? []).filter(c => c.status === 'SUCCESS').map(c => c.id)
  t.ok(polling.includes('server-sse-disconnect-resume'), 'a stream closed mid-call resumes through the gateway (session sealed to the grant, GET + Last-Event-ID forwarded)')
  t.notOk(proxy.requests.some(r => r.status === 401), 'no request was refused at gatehouse or at the backend')
  if (run.code !== 0) t.comment(run.stdout.slice(-3000))
})
