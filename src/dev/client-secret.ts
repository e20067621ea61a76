// The client secret `npm start` gives the development IdP: the one gatehouse itself will present. With
// UPSTREAM_CLIENT_SECRET_ARN set, gatehouse reads its secret from Secrets Manager or SSM, so the IdP must
// be handed that value too; otherwise the token exchange fails with invalid_client.
import type { Config } from '../config.ts'
import { resolveSecretArn, type SecretClients } from '../crypto/secrets.ts'

export async function devIdpClientSecret (config: Config, clients: SecretClients = {}): Promise<string> {
  if (config.upstream.clientSecretArn !== undefined) return await resolveSecretArn(config.upstream.clientSecretArn, clients)
  return config.upstream.clientSecret ?? ''
}
