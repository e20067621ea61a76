// Runs cognito-local as a child process (its own data dir, a free port) and sets up a user pool with
// an app client, groups and users through the real AWS SDK pointed at it.
// What cognito-local serves (v5.3): /oauth2/authorize (GET login form, POST credentials; PKCE S256
// required; no nonce, no `iss` in the response), /oauth2/token (authorization_code and refresh_token;
// client_id read from the body only, the client secret never checked; refresh tokens not rotated),
// /<poolId>/.well-known/jwks.json, and a discovery document whose issuer and jwks_uri are hard-coded to
// http://localhost:9229 (so, on any other port, use explicit endpoints). RevokeToken works through the API.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { freePort } from './net.ts'
import {
  CognitoIdentityProviderClient, CreateUserPoolCommand, CreateUserPoolClientCommand, CreateGroupCommand,
  AdminCreateUserCommand, AdminSetUserPasswordCommand, AdminAddUserToGroupCommand
} from '@aws-sdk/client-cognito-identity-provider'

const COGNITO_LOCAL_MAIN = createRequire(import.meta.url).resolve('cognito-local/lib/bin/start.js')

export interface CognitoLocal {
  /** e.g. http://127.0.0.1:41234 — also the issuer domain of its tokens. */
  endpoint: string
  client: CognitoIdentityProviderClient
  child: ChildProcess
  stop (): Promise<void>
}

export interface CognitoLocalUser {
  username: string
  password: string
  email: string
  groups?: string[]
}

export interface CognitoLocalPool {
  userPoolId: string
  clientId: string
  clientSecret: string
  /** `<endpoint>/<userPoolId>`, the `iss` of its tokens. */
  issuer: string
  authorizationEndpoint: string
  tokenEndpoint: string
  jwksUri: string
}

export async function startCognitoLocal (options: { readyTimeoutMs?: number, emailUsernames?: boolean } = {}): Promise<CognitoLocal> {
  const port = await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'cognito-local-'))
  const endpoint = `http://127.0.0.1:${port}`
  // Its default pools take the email as the username; gatehouse's users have usernames, as Cognito allows.
  if (options.emailUsernames !== true) {
    await mkdir(join(dataDir, '.cognito'), { recursive: true })
    await writeFile(join(dataDir, '.cognito', 'config.json'), JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] } }))
  }
  // cognito-local keeps its config and data under ./.cognito of its working directory.
  const child = spawn(process.execPath, [COGNITO_LOCAL_MAIN], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const collect = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8192) }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000)
  for (;;) {
    if (child.exitCode !== null) { await stop(); throw new Error(`cognito-local exited (code ${child.exitCode}); output:\n${output}`) }
    const healthy = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) }).then(r => r.ok, () => false)
    if (healthy) break
    if (Date.now() > deadline) { await stop(); throw new Error(`cognito-local not ready; output:\n${output}`) }
    await new Promise(resolve => setTimeout(resolve, 100))
  }

  const client = new CognitoIdentityProviderClient({ region: 'local', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  return { endpoint, client, child, stop: async () => { client.destroy(); await stop() } }
}

export async function createCognitoLocalPool (local: CognitoLocal, options: { callbackUrls: string[], users: CognitoLocalUser[], poolName?: string }): Promise<CognitoLocalPool> {
  const { client } = local
  const pool = await client.send(new CreateUserPoolCommand({ PoolName: options.poolName ?? 'gatehouse-test' }))
  const userPoolId = pool.UserPool?.Id
  if (userPoolId === undefined) throw new Error('CreateUserPool returned no id')
  const appClient = await client.send(new CreateUserPoolClientCommand({
    UserPoolId: userPoolId,
    ClientName: 'gatehouse',
    GenerateSecret: true,
    CallbackURLs: options.callbackUrls,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthScopes: ['openid', 'email', 'profile'],
    SupportedIdentityProviders: ['COGNITO']
  }))
  const clientId = appClient.UserPoolClient?.ClientId
  const clientSecret = appClient.UserPoolClient?.ClientSecret
  if (clientId === undefined || clientSecret === undefined) throw new Error('CreateUserPoolClient returned no id or secret')

  const groups = new Set(options.users.flatMap(u => u.groups ?? []))
  for (const GroupName of groups) await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName }))
  for (const user of options.users) {
    await client.send(new AdminCreateUserCommand({
      UserPoolId: userPoolId,
      Username: user.username,
      MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: user.email }, { Name: 'email_verified', Value: 'true' }]
    }))
    await client.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: user.username, Password: user.password, Permanent: true }))
    for (const GroupName of user.groups ?? []) await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: user.username, GroupName }))
  }

  return {
    userPoolId,
    clientId,
    clientSecret,
    issuer: `${local.endpoint}/${userPoolId}`,
    authorizationEndpoint: `${local.endpoint}/oauth2/authorize`,
    tokenEndpoint: `${local.endpoint}/oauth2/token`,
    jwksUri: `${local.endpoint}/${userPoolId}/.well-known/jwks.json`
  }
}

