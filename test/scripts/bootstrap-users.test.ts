// scripts/bootstrap-users.ts against cognito-local: it creates users and memberships, is idempotent, says
// what it changed, and refuses to run without an explicit pool id or with a malformed users file.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { AdminGetUserCommand, AdminListGroupsForUserCommand, CreateGroupCommand, CreateUserPoolCommand, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider'
import { startCognitoLocalAdmin } from '../support/cognito-local-admin.ts'

const SCRIPT = fileURLToPath(new URL('../../scripts/bootstrap-users.ts', import.meta.url))
const cognito = await startCognitoLocalAdmin()
t.teardown(() => cognito.stop())
const work = await mkdtemp(join(tmpdir(), 'gatehouse-bootstrap-'))
t.teardown(() => rm(work, { recursive: true, force: true }))

interface Run { code: number, stdout: string, stderr: string }
async function bootstrap (...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], { env: cognito.env })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

async function newPool (): Promise<string> {
  const { UserPool } = await cognito.client.send(new CreateUserPoolCommand({ PoolName: 'gatehouse', UsernameAttributes: ['email'] }))
  const id = UserPool?.Id as string
  for (const g of ['engineering', 'admins']) await cognito.client.send(new CreateGroupCommand({ UserPoolId: id, GroupName: g }))
  return id
}

async function groupsOf (poolId: string, email: string): Promise<string[]> {
  // With email as the username attribute the real username is the sub; look it up as the script does.
  const { Username } = await cognito.client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: email }))
  const { Groups } = await cognito.client.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username }))
  return (Groups ?? []).map(g => g.GroupName as string).sort()
}

t.test('refuses to run without an explicit --pool-id (exit 2, nothing changed)', async t => {
  const poolId = await newPool()
  const r = await bootstrap('--user', 'alice@example.com', '--groups', 'engineering')
  t.equal(r.code, 2)
  t.match(r.stderr, /refusing to run without an explicit --pool-id/)
  const { Users } = await cognito.client.send(new ListUsersCommand({ UserPoolId: poolId }))
  t.equal(Users?.length ?? 0, 0, 'no user was created')
})

t.test('refuses a malformed users file before touching the pool', async t => {
  const poolId = await newPool()
  const cases: Array<[string, string, RegExp]> = [
    ['not-json.json', '{ nope', /is not JSON/],
    ['not-array.json', '{"email":"a@example.com"}', /non-empty JSON array/],
    ['bad-email.json', '[{"email":"alice","groups":[]}]', /\[0\]: "email" must be an email address/],
    ['bad-groups.json', '[{"email":"a@example.com","groups":"admins"}]', /"groups" must be an array/],
    ['unknown-field.json', '[{"email":"a@example.com","groups":[],"admin":true}]', /unknown field "admin"/],
    ['duplicate.json', '[{"email":"a@example.com"},{"email":"A@example.com"}]', /appears twice/]
  ]
  for (const [name, text, message] of cases) {
    const file = join(work, name)
    await writeFile(file, text)
    const r = await bootstrap('--pool-id', poolId, '--file', file)
    t.equal(r.code, 2, `${name}: exit 2`)
    t.match(r.stderr, message, `${name}: says what is wrong`)
  }
  const missing = await bootstrap('--pool-id', poolId, '--file', join(work, 'absent.json'))
  t.equal(missing.code, 2)
  t.match(missing.stderr, /cannot read/)
  const both = await bootstrap('--pool-id', poolId, '--file', join(work, 'x.json'), '--user', 'a@example.com')
  t.equal(both.code, 2, '--file and --user together are refused')
  const { Users } = await cognito.client.send(new ListUsersCommand({ UserPoolId: poolId }))
  t.equal(Users?.length ?? 0, 0, 'no user was created')
})

t.test('refuses a group the pool does not have, before creating anyone', async t => {
  const poolId = await newPool()
  const r = await bootstrap('--pool-id', poolId, '--user', 'alice@example.com', '--groups', 'engineering,wizards')
  t.equal(r.code, 2)
  t.match(r.stderr, /group "wizards" does not exist/)
  const { Users } = await cognito.client.send(new ListUsersCommand({ UserPoolId: poolId }))
  t.equal(Users?.length ?? 0, 0)
})

t.test('--user creates the user with its groups, then is idempotent and only adds missing groups', async t => {
  const poolId = await newPool()
  const first = await bootstrap('--pool-id', poolId, '--user', 'Alice@Example.com', '--groups', 'engineering', '--temporary-password', 'Temp-Passw0rd!')
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /created\s+alice@example\.com \+groups engineering/)
  t.match(first.stdout, /1 created, 0 updated, 0 unchanged/)
  const user = await cognito.client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'alice@example.com' }))
  t.equal(user.UserStatus, 'FORCE_CHANGE_PASSWORD', 'a new user must set a password at first sign-in')
  t.same(user.UserAttributes?.find(a => a.Name === 'email_verified')?.Value, 'true')
  t.same(await groupsOf(poolId, 'alice@example.com'), ['engineering'])

  const again = await bootstrap('--pool-id', poolId, '--user', 'alice@example.com', '--groups', 'engineering')
  t.equal(again.code, 0)
  t.match(again.stdout, /unchanged alice@example\.com/)
  t.match(again.stdout, /0 created, 0 updated, 1 unchanged/)

  const more = await bootstrap('--pool-id', poolId, '--user', 'alice@example.com', '--groups', 'engineering,admins')
  t.equal(more.code, 0)
  t.match(more.stdout, /updated\s+alice@example\.com \+groups admins/)
  t.same(await groupsOf(poolId, 'alice@example.com'), ['admins', 'engineering'])
})

t.test('--file applies several users and reports created, updated and unchanged', async t => {
  const poolId = await newPool()
  await bootstrap('--pool-id', poolId, '--user', 'bob@example.com', '--groups', 'engineering')
  await bootstrap('--pool-id', poolId, '--user', 'carol@example.com', '--groups', 'admins')
  const file = join(work, 'users.json')
  await writeFile(file, JSON.stringify([
    { email: 'dana@example.com', groups: ['engineering', 'admins'], name: 'Dana' },
    { email: 'bob@example.com', groups: ['engineering', 'admins'] },
    { email: 'carol@example.com', groups: ['admins'] }
  ]))
  const r = await bootstrap('--pool-id', poolId, '--region', 'local', '--file', file)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /created\s+dana@example\.com \+groups engineering,admins/)
  t.match(r.stdout, /updated\s+bob@example\.com \+groups admins/)
  t.match(r.stdout, /unchanged carol@example\.com/)
  t.match(r.stdout, /1 created, 1 updated, 1 unchanged/)
  t.same(await groupsOf(poolId, 'dana@example.com'), ['admins', 'engineering'])
  t.same(await groupsOf(poolId, 'bob@example.com'), ['admins', 'engineering'])
})
