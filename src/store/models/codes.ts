// Authorization codes, keyed by their hash; redeemed once.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { AuthorizationCodeRecord } from '../../ports/records.ts'
import type { CodeRedemption, CodeStore, ConsumeResult } from '../../ports/store.ts'
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

  /**
   * One conditional write that checks the request against the code and consumes it, returning the code: no
   * read first. A loser (or a request that does not match) reads the code back, so the caller can tell why and
   * revoke the grant a first redemption produced.
   */
  async consumeCode (codeHash: string, expected: CodeRedemption, now: number): Promise<ConsumeResult<AuthorizationCodeRecord>> {
    const values: Record<string, AttributeValue> = { ':now': num(now), ':consumedBy': { S: expected.consumedBy }, ':clientId': { S: expected.clientId }, ':challenge': { S: expected.codeChallenge } }
    const matches = ['clientId = :clientId', 'codeChallenge = :challenge']
    if (expected.redirectUri === undefined) {
      matches.push('redirectUriOmitted = :omitted')
      values[':omitted'] = { BOOL: true }
    } else {
      matches.push('redirectUri = :redirectUri')
      values[':redirectUri'] = { S: expected.redirectUri }
    }
    let names: Record<string, string> | undefined
    if (expected.resource !== undefined) {
      matches.push('#resource = :resource')
      values[':resource'] = { S: expected.resource }
      names = { '#resource': 'resource' }
    }
    return await this.#table.transition<AuthorizationCodeRecord>('UpdateItem code', codeKey(codeHash), {
      update: 'SET consumedAt = :now, consumedBy = :consumedBy',
      condition: `${EXISTS_AND_LIVE} AND attribute_not_exists(consumedAt) AND ${matches.join(' AND ')}`,
      values,
      ...(names === undefined ? {} : { names })
    })
  }

  /** Only the redemption that stamped `consumedBy` can undo itself; anything else is left as it is. */
  async releaseCode (codeHash: string, consumedBy: string): Promise<void> {
    await this.#table.update('UpdateItem code release', codeKey(codeHash), {
      update: 'REMOVE consumedAt, consumedBy',
      condition: 'consumedBy = :consumedBy',
      values: { ':consumedBy': { S: consumedBy } }
    })
  }
}
