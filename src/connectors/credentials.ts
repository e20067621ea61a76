// A connector's API token, read on the first call that needs it, not at start: a deployment whose secret
// is still empty (Terraform creates it empty) starts and serves everything else, and its tools say what is
// missing. A failed read is not cached, so storing the secret fixes the next call without a restart.
import type { ConnectorAccount } from '../config.ts'
import { readOnFirstUse, type SecretClients } from '../crypto/secrets.ts'

export function tokenSource (account: ConnectorAccount, clients: SecretClients = {}): () => Promise<string> {
  // The ARN wins, as for every other secret: ARNs are how AWS deployments pass secrets.
  if (account.apiTokenArn === undefined) {
    const literal = account.apiToken as string
    return async () => literal
  }
  return readOnFirstUse(account.apiTokenArn, clients)
}
