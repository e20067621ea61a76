// `make deploy` runs this after `terraform apply`: invokes the deployed function with the smoke-check event
// (src/smoke-check.ts) so a wrong secret ARN, a missing permission or a public key that is not the signing
// key's fails the deploy, not the first sign-in. Exit 0 when every check passes, 1 otherwise.
// Usage: node scripts/smoke-check.ts <function name or ARN[:alias]> [region]
import { fileURLToPath } from 'node:url'
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { SMOKE_CHECK_EVENT, type SmokeCheckResult } from '../src/smoke-check.ts'

export async function runSmokeCheck (functionName: string, client: LambdaClient): Promise<{ ok: boolean, report: string }> {
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ gatehouse: SMOKE_CHECK_EVENT })) }))
  const payload = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')
  if (out.FunctionError !== undefined) return { ok: false, report: `smoke check: ${functionName} failed to start (${out.FunctionError}): ${payload}` }
  const result = JSON.parse(payload) as SmokeCheckResult
  const lines = result.checks.map(c => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.error === undefined ? '' : `: ${c.error}`}`)
  return { ok: result.ok, report: `smoke check of ${functionName}: ${result.ok ? 'passed' : 'FAILED'}\n${lines.join('\n')}` }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [functionName, region] = process.argv.slice(2)
  if (functionName === undefined) {
    console.error('usage: node scripts/smoke-check.ts <function name> [region]')
    process.exit(2)
  }
  const client = new LambdaClient(region === undefined ? {} : { region })
  const { ok, report } = await runSmokeCheck(functionName, client)
  console.log(report)
  client.destroy()
  process.exit(ok ? 0 : 1)
}
