// Grants: what a user approved for a client, with the sealed upstream tokens; revocation is a timestamp.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { GrantRecord } from '../../ports/records.ts'
import type { ConsumeResult, GrantStore, RefreshRotation } from '../../ports/store.ts'
import { CONDITION_FAILED, EXISTS_AND_LIVE, attr, num, type DynamoTable } from '../dynamo-table.ts'
import { KIND, grantKey, userGrantIndexKey, userGrantsPartition } from '../keys.ts'

export class DynamoGrantStore implements GrantStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveGrant (grant: GrantRecord): Promise<void> {
    await this.#table.create(KIND.grant, grantKey(grant.grantId), { ...grant, ...userGrantIndexKey(grant.identity.sub, grant.grantId) })
  }

  async listGrantsByUser (sub: string): Promise<GrantRecord[]> {
    return await this.#table.queryUserIndex<GrantRecord>('Query grants by user', userGrantsPartition(sub))
  }

  async listGrantsByClient (clientId: string): Promise<GrantRecord[]> {
    return await this.#table.scanKind<GrantRecord>('Scan grants by client', KIND.grant, { expired: 'skip', filter: 'clientId = :clientId', values: { ':clientId': { S: clientId } } })
  }

  /** Rotation, last use and (when refreshed) the upstream tokens in one conditional write: a refresh's only write. */
  async rotateRefreshToken (grantId: string, presentedHash: string | undefined, rotation: RefreshRotation, now: number): Promise<ConsumeResult<GrantRecord>> {
    const values: Record<string, AttributeValue> = { ':now': num(now), ':next': attr(rotation.next), ':retired': attr(rotation.retired) }
    const set = ['refreshToken = :next', 'retiredRefreshTokens = :retired', 'lastUsedAt = :now']
    let remove = ''
    if (rotation.upstream !== undefined) {
      set.push('upstreamSealed = :sealed')
      values[':sealed'] = { S: rotation.upstream.sealed }
      if (rotation.upstream.expiresAt === undefined) {
        remove = ' REMOVE upstreamExpiresAt'
      } else {
        set.push('upstreamExpiresAt = :upstreamExpiresAt')
        values[':upstreamExpiresAt'] = num(rotation.upstream.expiresAt)
      }
    }
    let current = 'attribute_not_exists(refreshToken)'
    if (presentedHash !== undefined) {
      current = 'refreshToken.tokenHash = :presented'
      values[':presented'] = { S: presentedHash }
    }
    return await this.#table.transition<GrantRecord>('UpdateItem grant refresh', grantKey(grantId), {
      update: `SET ${set.join(', ')}${remove}`,
      condition: `${EXISTS_AND_LIVE} AND attribute_not_exists(revokedAt) AND ${current}`,
      values
    })
  }

  /** Revoked grants are returned too (with revokedAt): the caller decides what revocation means. */
  async findGrant (grantId: string): Promise<GrantRecord | undefined> {
    return await this.#table.find<GrantRecord>(grantKey(grantId))
  }

  async revokeGrant (grantId: string, now: number): Promise<boolean> {
    // Only an unrevoked grant is written, so the first revocation time stays; the record stays until its TTL
    // so that introspection and reuse detection keep seeing "revoked" rather than "unknown". A missing or
    // already revoked grant (failed condition) is as revoked as it can be: nothing to do.
    const result = await this.#table.update('UpdateItem grant revoke', grantKey(grantId), {
      update: 'SET revokedAt = :now',
      condition: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
      values: { ':now': num(now) }
    })
    return result !== CONDITION_FAILED
  }
}
