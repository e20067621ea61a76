// The post-deploy smoke check (`make deploy` runs scripts/smoke-check.ts, which invokes the deployed function
// with `{ "gatehouse": "smoke-check" }`; API Gateway never sends that shape). Secrets are read on first use
// (issue 17), so without it a wrong ARN or a missing permission would surface only at the first sign-in:
// this reads each of them, signs once with KMS (which also checks the public key delivered with the
// deployment), seals and opens a value and reaches the table, and reports every failure without a value.
import type { Gatehouse } from './compose.ts'

export const SMOKE_CHECK_EVENT = 'smoke-check'

export interface SmokeCheckResult {
  ok: boolean
  checks: Array<{ name: string, ok: boolean, error?: string }>
}

/** Is this Lambda event the deployer's smoke check (not an API Gateway request)? */
export function isSmokeCheckEvent (event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { gatehouse?: unknown }).gatehouse === SMOKE_CHECK_EVENT
}

export async function smokeCheck (gatehouse: Gatehouse): Promise<SmokeCheckResult> {
  const { ctx, config } = gatehouse
  const checks: Array<[string, () => Promise<unknown>]> = [
    ['store', async () => { await ctx.store.ping() }]
  ]
  if (config.mode === 'authorization-server') {
    checks.push(
      ['cookie secret', async () => { await gatehouse.cookieSecret.ready() }],
      ['upstream client secret', async () => { await gatehouse.readSecrets() }],
      ['signing key', async () => { await ctx.keys.current.sign(Buffer.from('gatehouse smoke check')) }],
      ['encryption key', async () => {
        if (await ctx.cipher.open(await ctx.cipher.seal('gatehouse smoke check', 'smoke-check'), 'smoke-check') !== 'gatehouse smoke check') throw new Error('sealed value did not open to itself')
      }]
    )
  }
  const results = await Promise.all(checks.map(async ([name, run]) => {
    try {
      await run()
      return { name, ok: true }
    } catch (error) {
      const cause = (error as Error).cause
      return { name, ok: false, error: `${(error as Error).message}${cause instanceof Error ? `: ${cause.name} ${cause.message}` : ''}` }
    }
  }))
  return { ok: results.every(r => r.ok), checks: results }
}
