// `gatehouse admin …`: the operator's view of the configured store (the same settings as the app, from
// src/config.ts): clients, grants by user or client, revocation, signing keys, and pruning unused clients.
import { parseArgs } from 'node:util'
import {
  adminRemoveClient, adminRevokeGrant, adminRevokeUser, describeGrants, pruneClients, type AdminContext, type ConnectedApp
} from '../oauth/connected-apps.ts'
import type { KeySet, PublicJwk } from '../ports/keys.ts'
import { CliError, isoTime, type CliIo } from './io.ts'

export const ADMIN_USAGE = `usage: gatehouse admin <command> [--json]
  clients                       registered clients (expired ones are not listed)
  grants --user <sub>           a user's grants
  grants --client <client_id>   a client's grants (scans the table)
  revoke-grant <grant_id>       revoke one grant, its refresh tokens and its upstream session
  revoke-user <sub>             revoke every grant of a user
  remove-client <client_id>     revoke a client's grants and delete its registration
  keys                          signing keys and their status
  prune                         delete registered clients unused past CLIENT_UNUSED_DAYS now`

export interface AdminServices extends AdminContext {
  keys: KeySet
  /** Where the signing keys live, for `keys`: 'local <dir>' or 'kms'. */
  keySource: { kind: 'local', dataDir: string } | { kind: 'kms', currentKeyId: string, previousKeyIds: string[] }
}

function grantLine (app: ConnectedApp): string {
  const state = app.revokedAt === undefined ? 'active' : `revoked ${isoTime(app.revokedAt)}`
  return [app.grantId, app.clientId, app.clientName ?? '-', app.sub, app.scope.join(' '), `created ${isoTime(app.createdAt)}`, `last used ${isoTime(app.lastUsedAt)}`, `expires ${isoTime(app.expiresAt)}`, state].join('\t')
}

function keyStatus (jwk: PublicJwk, index: number): string {
  return index === 0 ? 'current (signs new tokens)' : 'previous (verifies tokens still live)'
}

export async function runAdmin (argv: string[], io: CliIo, services: AdminServices): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, user: { type: 'string' }, client: { type: 'string' } }
  })
  const [command, target] = positionals
  const print = (json: unknown, lines: () => string[]): void => {
    if (values.json === true) io.out(JSON.stringify(json, null, 2))
    else for (const line of lines()) io.out(line)
  }
  const need = (what: string): string => {
    if (target === undefined || target === '') throw new CliError(`${what} is required\n${ADMIN_USAGE}`, 2)
    return target
  }
  switch (command) {
    case 'clients': {
      const clients = (await services.store.listClients()).sort((a, b) => a.createdAt - b.createdAt)
      print(clients.map(({ clientSecretHash: _hash, ...client }) => client), () => clients.length === 0
        ? ['no registered clients']
        : clients.map(c => [c.clientId, c.clientName ?? '-', c.tokenEndpointAuthMethod, c.redirectUris.join(' '), `created ${isoTime(c.createdAt)}`, `expires ${c.expiresAt === 0 ? 'never' : isoTime(c.expiresAt)}`].join('\t')))
      return
    }
    case 'grants': {
      if ((values.user === undefined) === (values.client === undefined)) throw new CliError(`grants needs exactly one of --user <sub> or --client <client_id>\n${ADMIN_USAGE}`, 2)
      const grants = values.user !== undefined ? await services.store.listGrantsByUser(values.user) : await services.store.listGrantsByClient(values.client as string)
      const apps = await describeGrants(grants, services.store)
      print(apps, () => apps.length === 0 ? ['no grants'] : apps.map(grantLine))
      return
    }
    case 'revoke-grant': {
      const done = await adminRevokeGrant(need('grant_id'), services)
      if (done === undefined) throw new CliError(`no grant ${target} (unknown or expired)`)
      print(done, () => [`revoked grant ${done.grantId} of ${done.sub} (client ${done.clientId}); upstream session: ${done.upstream}`])
      return
    }
    case 'revoke-user': {
      const done = await adminRevokeUser(need('sub'), services)
      print(done, () => [`revoked ${done.length} grant(s) of ${target}`, ...done.map(d => `  ${d.grantId} (client ${d.clientId}); upstream session: ${d.upstream}`)])
      return
    }
    case 'remove-client': {
      const { client, revoked } = await adminRemoveClient(need('client_id'), services)
      if (client === undefined && revoked.length === 0) throw new CliError(`no client ${target} (unknown or expired)`)
      print({ clientId: target, removed: client !== undefined, revoked }, () => [`${client === undefined ? 'client was already gone' : `removed client ${target}`}; revoked ${revoked.length} grant(s)`])
      return
    }
    case 'keys': {
      const jwks = await services.keys.publicKeys()
      const source = services.keySource
      const keys = jwks.map((jwk, i) => ({ kid: jwk.kid, alg: jwk.alg, status: keyStatus(jwk, i), source: source.kind === 'local' ? `local (${source.dataDir})` : `kms ${i === 0 ? source.currentKeyId : source.previousKeyIds[i - 1] ?? '?'}` }))
      print(keys, () => keys.map(k => [k.kid, k.alg, k.status, k.source].join('\t')))
      return
    }
    case 'prune': {
      const removed = await pruneClients(services)
      print({ removed }, () => [`removed ${removed.length} unused client(s)`, ...removed.map(id => `  ${id}`)])
      return
    }
    default:
      throw new CliError(`${command === undefined ? 'a command is required' : `unknown admin command ${command}`}\n${ADMIN_USAGE}`, 2)
  }
}
