// Registered clients (ClientRecord). A registered client expires when unused (expiresAt, pushed out by each
// grant); operator-provisioned clients have expiresAt 0 and never do.
import type { ClientRecord } from '../../ports/records.ts'
import type { ClientStore } from '../../ports/store.ts'
import { EXISTS_AND_LIVE, num, type DynamoTable } from '../dynamo-table.ts'
import { KIND, clientKey } from '../keys.ts'

export class DynamoClientStore implements ClientStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveClient (client: ClientRecord): Promise<void> {
    await this.#table.create(KIND.client, clientKey(client.clientId), client, `client ${client.clientId} already exists`)
  }

  async findClient (clientId: string): Promise<ClientRecord | undefined> {
    return await this.#table.find<ClientRecord>(clientKey(clientId))
  }

  async extendClient (clientId: string, expiresAt: number): Promise<void> {
    // attribute_exists(expiresAt): a client stored without one never expires and must not start to.
    await this.#table.update('UpdateItem client expiry', clientKey(clientId), {
      update: 'SET expiresAt = :expiresAt',
      condition: `${EXISTS_AND_LIVE} AND attribute_exists(expiresAt) AND expiresAt < :expiresAt`,
      values: { ':expiresAt': num(expiresAt), ...this.#table.live() }
    })
  }

  async listClients (): Promise<ClientRecord[]> {
    return await this.#table.scanKind<ClientRecord>('Scan clients', KIND.client, { expired: 'skip' })
  }

  async deleteClient (clientId: string): Promise<void> {
    await this.#table.remove('DeleteItem client', clientKey(clientId), 'attribute_exists(pk)')
  }

  async pruneExpiredClients (): Promise<string[]> {
    const expired = await this.#table.scanKind<ClientRecord>('Scan expired clients', KIND.client, { expired: 'only' })
    const removed: string[] = []
    for (const client of expired) {
      // Only if it is still expired: a grant issued meanwhile pushed it out.
      const live = this.#table.live()
      if (await this.#table.remove('DeleteItem expired client', clientKey(client.clientId), 'expiresAt <= :now', live)) removed.push(client.clientId)
    }
    return removed
  }
}
