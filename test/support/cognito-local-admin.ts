// cognito-local (a Cognito emulator) for tests of admin tooling such as scripts/bootstrap-users.ts: the same
// child process as test/support/cognito-local.ts, with its default pool settings (email as username), plus
// the environment a child process needs so its SDK clients talk to the emulator.
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import { startCognitoLocal } from './cognito-local.ts'

export interface CognitoLocalAdmin {
  endpoint: string
  client: CognitoIdentityProviderClient
  /** Environment for a child process whose SDK clients should talk to this emulator. */
  env: Record<string, string>
  stop (): Promise<void>
}

export async function startCognitoLocalAdmin (readyTimeoutMs = 20_000): Promise<CognitoLocalAdmin> {
  const local = await startCognitoLocal({ readyTimeoutMs, emailUsernames: true })
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: local.endpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'local',
    AWS_EC2_METADATA_DISABLED: 'true'
  }
  return { endpoint: local.endpoint, client: local.client, env, stop: local.stop }
}
