// Creates Cognito users and group memberships in a deployed gatehouse user pool, idempotently:
//   npx node scripts/bootstrap-users.ts --pool-id <id> [--region r] --file users.json
//   npx node scripts/bootstrap-users.ts --pool-id <id> [--region r] --user alice@example.com --groups engineering,admins [--temporary-password ...]
// users.json: [{ "email": "alice@example.com", "groups": ["engineering"], "temporaryPassword"?: "...", "name"?: "Alice" }]
// A new user gets an invitation email with a temporary password (or the one given). An existing user only
// gains the groups it lacks; nothing is removed. Honours AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient, GetGroupCommand, UserNotFoundException, ResourceNotFoundException
} from '@aws-sdk/client-cognito-identity-provider'

export interface UserSpec {
  email: string
  groups: string[]
  temporaryPassword?: string
  name?: string
}

export type Outcome = 'created' | 'updated' | 'unchanged'

export class UsageError extends Error {
  constructor (message: string) { super(message); this.name = 'UsageError' }
}

const USAGE = 'usage: npx node scripts/bootstrap-users.ts --pool-id <id> [--region <region>] (--file users.json | --user <email> [--groups g1,g2] [--temporary-password <pw>])'
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/

/** Validates the users file (or the flags turned into one entry); throws UsageError naming the bad entry. */
export function parseUsers (raw: unknown, source: string): UserSpec[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new UsageError(`${source}: expected a non-empty JSON array of { "email", "groups" } entries`)
  const seen = new Set<string>()
  return raw.map((entry: unknown, i): UserSpec => {
    const at = `${source}[${i}]`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`${at}: expected an object`)
    const e = entry as Record<string, unknown>
    for (const k of Object.keys(e)) if (!['email', 'groups', 'temporaryPassword', 'name'].includes(k)) throw new UsageError(`${at}: unknown field "${k}"`)
    if (typeof e.email !== 'string' || !EMAIL.test(e.email)) throw new UsageError(`${at}: "email" must be an email address`)
    const email = e.email.toLowerCase()
    if (seen.has(email)) throw new UsageError(`${at}: ${email} appears twice`)
    seen.add(email)
    const groups = e.groups ?? []
    if (!Array.isArray(groups) || !groups.every(g => typeof g === 'string' && g.length > 0 && !/\s/.test(g))) throw new UsageError(`${at}: "groups" must be an array of group names`)
    if (e.temporaryPassword !== undefined && (typeof e.temporaryPassword !== 'string' || e.temporaryPassword.length < 6)) throw new UsageError(`${at}: "temporaryPassword" must be a string of at least 6 characters`)
    if (e.name !== undefined && typeof e.name !== 'string') throw new UsageError(`${at}: "name" must be a string`)
    return { email, groups: [...new Set(groups as string[])], ...(e.temporaryPassword !== undefined ? { temporaryPassword: e.temporaryPassword as string } : {}), ...(e.name !== undefined ? { name: e.name as string } : {}) }
  })
}

export interface Options {
  poolId: string
  region: string | undefined
  users: UserSpec[]
}

export async function parseCommandLine (argv: string[]): Promise<Options> {
  let values
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        'pool-id': { type: 'string' },
        region: { type: 'string' },
        file: { type: 'string' },
        user: { type: 'string' },
        groups: { type: 'string' },
        'temporary-password': { type: 'string' },
        help: { type: 'boolean' }
      }
    }).values
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`)
  }
  if (values.help === true) throw new UsageError(USAGE)
  const poolId = values['pool-id']
  if (poolId === undefined || poolId === '') throw new UsageError(`refusing to run without an explicit --pool-id (see \`make outputs\`: cognito_user_pool_id)\n${USAGE}`)
  if (!POOL_ID.test(poolId)) throw new UsageError(`--pool-id ${JSON.stringify(poolId)} is not a user pool id (like us-east-1_AbCdEf123)`)
  if ((values.file === undefined) === (values.user === undefined)) throw new UsageError(`give exactly one of --file and --user\n${USAGE}`)
  let users: UserSpec[]
  if (values.file !== undefined) {
    if (values.groups !== undefined || values['temporary-password'] !== undefined) throw new UsageError('--groups and --temporary-password go with --user; put them in the file instead')
    let text: string
    try { text = await readFile(values.file, 'utf8') } catch (err) { throw new UsageError(`cannot read ${values.file}: ${(err as Error).message}`) }
    let raw: unknown
    try { raw = JSON.parse(text) } catch (err) { throw new UsageError(`${values.file} is not JSON: ${(err as Error).message}`) }
    users = parseUsers(raw, values.file)
  } else {
    users = parseUsers([{
      email: values.user,
      groups: (values.groups ?? '').split(',').map(g => g.trim()).filter(Boolean),
      ...(values['temporary-password'] !== undefined ? { temporaryPassword: values['temporary-password'] } : {})
    }], '--user')
  }
  const region = values.region ?? poolId.split('_')[0]
  return { poolId, region, users }
}

const isNotFound = (err: unknown): boolean => err instanceof UserNotFoundException || err instanceof ResourceNotFoundException ||
  ['UserNotFoundException', 'ResourceNotFoundException'].includes((err as { name?: string }).name ?? '')

/** Applies the users to the pool; returns one line per user. Group names are checked before any change. */
export async function bootstrapUsers (client: CognitoIdentityProviderClient, poolId: string, users: UserSpec[], log: (line: string) => void = console.log): Promise<Array<{ email: string, outcome: Outcome, addedGroups: string[] }>> {
  const wanted = [...new Set(users.flatMap(u => u.groups))]
  for (const group of wanted) {
    try {
      await client.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: group }))
    } catch (err) {
      if (isNotFound(err)) throw new UsageError(`group "${group}" does not exist in pool ${poolId} (groups come from Terraform: cognito_groups)`)
      throw err
    }
  }
  const results: Array<{ email: string, outcome: Outcome, addedGroups: string[] }> = []
  for (const user of users) {
    let outcome: Outcome = 'unchanged'
    let username = user.email
    try {
      const existing = await client.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: user.email }))
      username = existing.Username ?? user.email
    } catch (err) {
      if (!isNotFound(err)) throw err
      const created = await client.send(new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: user.email,
        UserAttributes: [
          { Name: 'email', Value: user.email },
          { Name: 'email_verified', Value: 'true' },
          ...(user.name !== undefined ? [{ Name: 'name', Value: user.name }] : [])
        ],
        DesiredDeliveryMediums: ['EMAIL'],
        ...(user.temporaryPassword !== undefined ? { TemporaryPassword: user.temporaryPassword } : {})
      }))
      username = created.User?.Username ?? user.email
      outcome = 'created'
    }
    const current = new Set<string>()
    let next: string | undefined
    do {
      const page = await client.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username, ...(next !== undefined ? { NextToken: next } : {}) }))
      for (const g of page.Groups ?? []) if (g.GroupName !== undefined) current.add(g.GroupName)
      next = page.NextToken
    } while (next !== undefined)
    const added: string[] = []
    for (const group of user.groups) {
      if (current.has(group)) continue
      await client.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: username, GroupName: group }))
      added.push(group)
    }
    if (outcome === 'unchanged' && added.length > 0) outcome = 'updated'
    log(`${outcome.padEnd(9)} ${user.email}${added.length > 0 ? ` +groups ${added.join(',')}` : ''}`)
    results.push({ email: user.email, outcome, addedGroups: added })
  }
  const count = (o: Outcome) => results.filter(r => r.outcome === o).length
  log(`pool ${poolId}: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`)
  return results
}

async function main (): Promise<void> {
  let options: Options
  try {
    options = await parseCommandLine(process.argv.slice(2))
  } catch (err) {
    if (err instanceof UsageError) { console.error(`bootstrap-users: ${err.message}`); process.exitCode = 2; return }
    throw err
  }
  const client = new CognitoIdentityProviderClient(options.region !== undefined ? { region: options.region } : {})
  try {
    await bootstrapUsers(client, options.poolId, options.users)
  } catch (err) {
    if (err instanceof UsageError) { console.error(`bootstrap-users: ${err.message}`); process.exitCode = 2; return }
    console.error(`bootstrap-users: ${(err as Error).name}: ${(err as Error).message}`)
    process.exitCode = 1
  } finally {
    client.destroy()
  }
}

if (import.meta.main) await main()
