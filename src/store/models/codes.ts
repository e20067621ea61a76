// Authorization codes, keyed by their hash; redeemed once.
import type { AuthorizationCodeRecord } from '../../ports/records.ts'
import type { CodeStore, ConsumeResult } from '../../ports/store.ts'
import { EXISTS_AND_LIVE, num, type DynamoTable } from '../dynamo-table.ts'
import { KIND, codeKey } from '../keys.ts'

export class DynamoCodeStore implements CodeStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveCode (code: AuthorizationCodeRecord): Promise<void> {
    await this.#table.create(KIND.code, codeKey(code.codeHash), code)
  }

  async findCode (codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    return await this.#table.find<AuthorizationCodeRecord>(codeKey(codeHash))
  }

  /** The loser reads the winner's grantId, so the caller can revoke what the first redemption produced. */
  async consumeCode (codeHash: string, grantId: string, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>> {
    return await this.#table.transition<AuthorizationCodeRecord>('UpdateItem code', codeKey(codeHash), {
      update: 'SET consumedAt = :now, grantId = :grantId',
      condition: `${EXISTS_AND_LIVE} AND attribute_not_exists(consumedAt)`,
      values: { ':now': num(now), ':grantId': { S: grantId } }
    })
  }
}
