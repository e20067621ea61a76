// Grants: what a user approved for a client, with the sealed upstream tokens; revocation is a timestamp.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { GrantRecord } from '../../ports/records.ts'
import type { GrantStore } from '../../ports/store.ts'
import { CONDITION_FAILED, EXISTS_AND_LIVE, num, type DynamoTable } from '../dynamo-table.ts'
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

  async touchGrant (grantId: string, now: number): Promise<void> {
    await this.#table.update('UpdateItem grant used', grantKey(grantId), {
      update: 'SET lastUsedAt = :now',
      condition: 'attribute_exists(pk)',
      values: { ':now': num(now) }
    })
  }

  /** Revoked grants are returned too (with revokedAt): the caller decides what revocation means. */
  async findGrant (grantId: string): Promise<GrantRecord | undefined> {
    return await this.#table.find<GrantRecord>(grantKey(grantId))
  }

  async revokeGrant (grantId: string, now: number): Promise<void> {
    // if_not_exists keeps the first revocation time; the record stays until its TTL so that
    // introspection and reuse detection keep seeing "revoked" rather than "unknown".
    // A missing grant (failed condition) is already as revoked as it can be: nothing to do.
    await this.#table.update('UpdateItem grant revoke', grantKey(grantId), {
      update: 'SET revokedAt = if_not_exists(revokedAt, :now)',
      condition: 'attribute_exists(pk)',
      values: { ':now': num(now) }
    })
  }

  async updateGrantUpstream (grantId: string, upstreamSealed: string, upstreamExpiresAt: number | undefined): Promise<boolean> {
    const values: Record<string, AttributeValue> = { ':sealed': { S: upstreamSealed }, ...this.#table.live() }
    let update = 'SET upstreamSealed = :sealed'
    if (upstreamExpiresAt === undefined) {
      update += ' REMOVE upstreamExpiresAt'
    } else {
      update += ', upstreamExpiresAt = :upstreamExpiresAt'
      values[':upstreamExpiresAt'] = num(upstreamExpiresAt)
    }
    const result = await this.#table.update('UpdateItem grant upstream', grantKey(grantId), {
      update,
      condition: `${EXISTS_AND_LIVE} AND attribute_not_exists(revokedAt)`,
      values
    })
    return result !== CONDITION_FAILED
  }
}
