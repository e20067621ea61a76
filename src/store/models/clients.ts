// Registered clients (ClientRecord). A client never expires by itself (expiresAt 0).
import type { ClientRecord } from '../../ports/records.ts'
import type { ClientStore } from '../../ports/store.ts'
import type { DynamoTable } from '../dynamo-table.ts'
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
}
