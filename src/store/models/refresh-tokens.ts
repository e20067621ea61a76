// Refresh tokens, keyed by their hash; each is used once (rotation), a second use is reuse.
import type { RefreshTokenRecord } from '../../ports/records.ts'
import type { ConsumeResult, RefreshTokenStore } from '../../ports/store.ts'
import { EXISTS_AND_LIVE, num, type DynamoTable } from '../dynamo-table.ts'
import { KIND, refreshTokenKey } from '../keys.ts'

export class DynamoRefreshTokenStore implements RefreshTokenStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveRefreshToken (token: RefreshTokenRecord): Promise<void> {
    await this.#table.create(KIND.refreshToken, refreshTokenKey(token.tokenHash), token)
  }

  async findRefreshToken (tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return await this.#table.find<RefreshTokenRecord>(refreshTokenKey(tokenHash))
  }

  async markRefreshTokenUsed (tokenHash: string, now: number, usedBy: string): Promise<ConsumeResult<RefreshTokenRecord>> {
    return await this.#table.transition<RefreshTokenRecord>('UpdateItem refresh token', refreshTokenKey(tokenHash), {
      update: 'SET usedAt = :now, usedBy = :usedBy',
      condition: `${EXISTS_AND_LIVE} AND attribute_not_exists(usedAt)`,
      values: { ':now': num(now), ':usedBy': { S: usedBy } }
    })
  }
}
