// The browser routes' cookie secret by ARN (COOKIE_SECRET_ARN) is read on the first browser request, not at
// start (issue 17: a cold start serving /mcp loads no Secrets Manager client). A wrong ARN still fails
// clearly: 503 on the browser routes with an error line naming the ARN, while /mcp and the rest answer.
// The secrets live in the real AWS emulator (moto's Secrets Manager, test/support/aws-emulator.ts); reads are
// counted by the loopback proxy in front of it (test/support/aws-proxy.ts). Without moto the two tests that
// need it are skipped, and counted as skipped.
import t from 'tap'
import { buildTestApp } from '../support/app.ts'
import { secretsEmulator } from '../support/secrets-emulator.ts'
import { CookieSecret } from '../../src/plugins/cookies.ts'

const { skip, reads, putSecret } = await secretsEmulator(t)

t.test('a cookie secret by ARN is read on the first browser request, once', { skip }, async t => {
  const before = reads()
  const { app } = await buildTestApp(t, { env: { COOKIE_SECRET_ARN: await putSecret('gatehouse/cookie-ok', 's'.repeat(44)) } })
  t.equal(reads() - before, 0, 'nothing read at start')
  t.equal((await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).statusCode, 200)
  t.equal(reads() - before, 0, 'nor by a route without cookies')
  const first = await app.inject({ method: 'GET', url: '/authorize?client_id=nobody' })
  t.ok(first.statusCode >= 400 && first.statusCode < 500, `an ordinary refusal (${first.statusCode}), not a 503`)
  const second = await app.inject({ method: 'GET', url: '/authorize?client_id=nobody' })
  t.equal(second.statusCode, first.statusCode)
  t.equal(reads() - before, 1, 'read once, then kept')
})

t.test('a wrong COOKIE_SECRET_ARN: the app starts, browser routes answer 503 with an error line, the rest works', { skip }, async t => {
  const logLines: string[] = []
  const wrong = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:gatehouse/no-such-cookie-AbCdEf'
  const { app } = await buildTestApp(t, { env: { COOKIE_SECRET_ARN: wrong }, logLines })
  const res = await app.inject({ method: 'GET', url: '/authorize?client_id=nobody' })
  t.equal(res.statusCode, 503)
  const errors = logLines.map(line => JSON.parse(line) as { level: number, msg: string, err?: { message: string } }).filter(line => line.level >= 50)
  t.match(errors, [{ msg: 'cookie secret could not be read', err: { message: `could not read secret ${wrong}` } }], 'one error line naming the ARN')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/mcp', payload: {} })).statusCode, 401, '/mcp is not held up by the secret')
  t.equal((await app.inject({ method: 'GET', url: '/authorize?client_id=nobody' })).statusCode, 503, 'read again on the next request: still failing')
})

t.test('CookieSecret: signs only once the secret is there, and refuses a short one', async t => {
  const lazy = new CookieSecret(async () => 'k'.repeat(32))
  t.notOk(lazy.loaded)
  t.throws(() => lazy.sign('v'), /has not been read yet/)
  await lazy.ready()
  t.ok(lazy.loaded)
  t.same(lazy.unsign(lazy.sign('v')), { valid: true, renew: false, value: 'v' })
  await lazy.ready()
  t.throws(() => new CookieSecret('short'), /at least 32 characters/)
  await t.rejects(new CookieSecret(async () => 'short').ready(), /at least 32 characters/)
})
