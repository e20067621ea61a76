// Runs the bundled Lambda handler (dist/lambda/index.cjs, or a build elsewhere) as the nodejs22.x runtime
// would: require() in a fresh Node process with the runtime's Node flags, the given environment only, and
// API Gateway HTTP API v2 events handed to `handler` one after another.
import { spawn } from 'node:child_process'
import { LAMBDA_DEFAULT_MEMORY_SIZE, lambdaNodeFlags } from '../../scripts/code-cache.ts'

export const RUNTIME_FLAGS = lambdaNodeFlags(LAMBDA_DEFAULT_MEMORY_SIZE)

// The handler's own logs go to stdout too (as in Lambda): the result follows this marker.
const RESULT = '\n--- handler results ---\n'

export interface HandlerAnswer { statusCode: number, headers: Record<string, string>, body: string }

/** `awsSdkClients`: the AWS SDK client packages the process had loaded when the last answer came (e.g. client-kms). */
export async function invokeBundle (bundlePath: string, env: Record<string, string>, events: unknown[], flags = RUNTIME_FLAGS): Promise<HandlerAnswer[] & { codeCache?: string, stderr?: string, stdout?: string, awsSdkClients?: string[] }> {
  const script = `const { handler, codeCache } = require(${JSON.stringify(bundlePath)});
(async () => { const out = []; for (const e of ${JSON.stringify(events)}) out.push(await handler(e, { callbackWaitsForEmptyEventLoop: true, functionName: 'gatehouse', awsRequestId: 'x' }));
const awsSdkClients = [...new Set(Object.keys(require.cache).map(p => /@aws-sdk[\\\\/](client-[a-z0-9-]+)/.exec(p)?.[1]).filter(Boolean))];
process.stdout.write(${JSON.stringify(RESULT)} + JSON.stringify({ out, codeCache, awsSdkClients }) + "\\n"); process.exit(0) })().catch(e => { console.error(e); process.exit(1) })`
  return await new Promise((resolve, reject) => {
    // The bundle is a build artifact: its sources' coverage is measured where they are tested directly.
    const child = spawn(process.execPath, [...flags, '-e', script], { env: { PATH: process.env.PATH, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) { reject(new Error(`handler process exited ${code}: ${err.slice(-2000)}`)); return }
      // One line: JSON.stringify escapes newlines, and a log line may still follow it.
      const { out: answers, codeCache, awsSdkClients } = JSON.parse(out.slice(out.lastIndexOf(RESULT) + RESULT.length).split('\n')[0] ?? '') as { out: HandlerAnswer[], codeCache: string, awsSdkClients: string[] }
      resolve(Object.assign(answers, { codeCache, awsSdkClients, stderr: err, stdout: out.slice(0, out.lastIndexOf(RESULT)) }))
    })
  })
}
