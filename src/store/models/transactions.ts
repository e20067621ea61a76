// Pending authorization transactions: created at /authorize, approved once (consent), consumed once (callback).
import type { AuthorizationTransaction } from '../../ports/records.ts'
import type { ConsumeResult, TransactionStore } from '../../ports/store.ts'
import { EXISTS_AND_LIVE, attr, type DynamoTable } from '../dynamo-table.ts'
import { KIND, transactionKey } from '../keys.ts'

export class DynamoTransactionStore implements TransactionStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveTransaction (tx: AuthorizationTransaction): Promise<void> {
    await this.#table.create(KIND.transaction, transactionKey(tx.id), tx)
  }

  async findTransaction (id: string): Promise<AuthorizationTransaction | undefined> {
    return await this.#table.find<AuthorizationTransaction>(transactionKey(id))
  }

  async markTransactionApproved (id: string, upstream: NonNullable<AuthorizationTransaction['upstream']>): Promise<ConsumeResult<AuthorizationTransaction>> {
    return await this.#table.transition<AuthorizationTransaction>('UpdateItem transaction', transactionKey(id), {
      update: 'SET upstream = :upstream',
      condition: `${EXISTS_AND_LIVE} AND attribute_not_exists(upstream)`,
      values: { ':upstream': attr(upstream), ...this.#table.live() }
    })
  }

  async consumeTransaction (id: string): Promise<AuthorizationTransaction | undefined> {
    return await this.#table.take<AuthorizationTransaction>('DeleteItem transaction', transactionKey(id))
  }
}
