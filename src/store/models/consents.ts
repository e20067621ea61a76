// Consent: one item per user and client, so the consent page is skipped for what was approved before.
import type { ConsentRecord } from '../../ports/records.ts'
import type { ConsentStore } from '../../ports/store.ts'
import type { DynamoTable } from '../dynamo-table.ts'
import { KIND, consentKey } from '../keys.ts'

export class DynamoConsentStore implements ConsentStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  /** Overwrites: a newer consent for the same user and client replaces the older one. */
  async saveConsent (consent: ConsentRecord): Promise<void> {
    await this.#table.replace(KIND.consent, consentKey(consent.sub, consent.clientId), consent)
  }

  async findConsent (sub: string, clientId: string): Promise<ConsentRecord | undefined> {
    return await this.#table.find<ConsentRecord>(consentKey(sub, clientId))
  }
}
