// The post-deploy smoke check (issue 17): secrets are read on first use, so `make deploy` invokes the function
// with the smoke-check event to catch a wrong ARN at deploy time. It reads every secret, signs, seals and
// reaches the store, and names what failed without showing any value.
// The secrets live in the real AWS emulator (moto's Secrets Manager, test/support/aws-emulator.ts); reads are
// counted by the loopback proxy in front of it (test/support/aws-proxy.ts). Without moto the two tests that
// need it are skipped, and counted as skipped.
import t from 'tap'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import { buildTestApp } from './support/app.ts'
import { secretsEmulator } from './support/secrets-emulator.ts'
import { isSmokeCheckEvent, smokeCheck } from '../src/smoke-check.ts'
import { runSmokeCheck } from '../scripts/smoke-check.ts'
import { httpApiEvent } from '../scripts/http-api-event.ts'

const { skip, reads, putSecret } = await secretsEmulator(t)

t.test('every check passes with readable secrets, and reads each secret once', { skip }, async t => {
  const before = reads()
  const { app } = await buildTestApp(t, { env: { COOKIE_SECRET_ARN: await putSecret('gatehouse/cookie', 'c'.repeat(40)), UPSTREAM_CLIENT_SECRET_ARN: await putSecret('gatehouse/upstream', 'u-secret') } })
  t.equal(reads() - before, 0, 'nothing read at start')
  const result = await smokeCheck(app.gatehouse)
  t.same(result, { ok: true, checks: ['store', 'cookie secret', 'upstream client secret', 'signing key', 'encryption key'].map(name => ({ name, ok: true })) })
  t.equal(reads() - before, 2)
})

t.test('a wrong secret ARN fails the check by name, with the cause and no value', { skip }, async t => {
  const wrongCookie = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:gatehouse/wrong-cookie-AbCdEf'
  const wrongUpstream = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:gatehouse/wrong-upstream-AbCdEf'
  const { app } = await buildTestApp(t, { env: { COOKIE_SECRET_ARN: wrongCookie, UPSTREAM_CLIENT_SECRET_ARN: wrongUpstream } })
  const result = await smokeCheck(app.gatehouse)
  t.equal(result.ok, false)
  t.match(result.checks, [
    { name: 'store', ok: true },
    { name: 'cookie secret', ok: false, error: new RegExp(`^could not read secret ${wrongCookie}: ResourceNotFoundException`) },
    { name: 'upstream client secret', ok: false, error: new RegExp(`^could not read secret ${wrongUpstream}`) },
    { name: 'signing key', ok: true },
    { name: 'encryption key', ok: true }
  ])
})

t.test('a resource server checks only its store', async t => {
  const { app } = await buildTestApp(t, { env: { GATEHOUSE_MODE: 'resource-server', TRUSTED_ISSUERS: 'https://issuer.example' } })
  t.same(await smokeCheck(app.gatehouse), { ok: true, checks: [{ name: 'store', ok: true }] })
})

t.test('only the deployer\'s event is a smoke check; an API Gateway request never is', async t => {
  t.ok(isSmokeCheckEvent({ gatehouse: 'smoke-check' }))
  t.notOk(isSmokeCheckEvent(httpApiEvent('https://x.example', 'POST', '/mcp', {}, '{"gatehouse":"smoke-check"}')))
  t.notOk(isSmokeCheckEvent(null))
  t.notOk(isSmokeCheckEvent('smoke-check'))
})

t.test('scripts/smoke-check.ts reports each check and fails the deploy on any failure or a function error', async t => {
  const client = (payload: unknown, functionError?: string): LambdaClient => ({
    send: async (command: { input: { FunctionName: string, Payload: Uint8Array } }) => {
      t.same(JSON.parse(Buffer.from(command.input.Payload).toString()), { gatehouse: 'smoke-check' })
      return { Payload: Buffer.from(JSON.stringify(payload)), ...(functionError === undefined ? {} : { FunctionError: functionError }) }
    }
  }) as unknown as LambdaClient
  const passed = await runSmokeCheck('gatehouse', client({ ok: true, checks: [{ name: 'store', ok: true }] }))
  t.same(passed, { ok: true, report: 'smoke check of gatehouse: passed\n  ok   store' })
  const failed = await runSmokeCheck('gatehouse', client({ ok: false, checks: [{ name: 'store', ok: true }, { name: 'cookie secret', ok: false, error: 'could not read secret arn:x' }] }))
  t.same(failed, { ok: false, report: 'smoke check of gatehouse: FAILED\n  ok   store\n  FAIL cookie secret: could not read secret arn:x' })
  const crashed = await runSmokeCheck('gatehouse', client({ errorMessage: 'KMS_SIGNING_PUBLIC_KEYS has no public key for arn:y' }, 'Unhandled'))
  t.equal(crashed.ok, false)
  t.match(crashed.report, /gatehouse failed to start \(Unhandled\): .*KMS_SIGNING_PUBLIC_KEYS/)
})
