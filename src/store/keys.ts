// The key schema: the only place that builds pk/sk strings. docs/storage-schema.md is its contract.
// Ids and hashes are used verbatim: keys are only ever looked up exactly (the dataset's begins_with
// on `ROW#` and a stream's `EVENT#` range are the only ranges), so a `#` inside an id cannot make two items collide.

import { MAX_STREAM_EVENT_SEQ } from '../ports/stream-events.ts'

export interface ItemKey {
  pk: string
  sk: string
}

/** Item kinds, stored in each item's `kind` attribute so an operator reading the table can tell them apart. */
export const KIND = {
  client: 'client',
  transaction: 'transaction',
  code: 'code',
  grant: 'grant',
  refreshToken: 'refresh_token',
  consent: 'consent',
  datasetRecord: 'dataset_record',
  streamEvent: 'stream_event'
} as const

export type Kind = typeof KIND[keyof typeof KIND]

/** The dataset the MCP tools read and write; one partition holds all its rows. */
export const DATASET_NAME = 'sample'
export const DATASET_ROW_PREFIX = 'ROW#'

function part (what: string, value: string): string {
  // An empty id would address a shared item ("CLIENT#") — always a caller bug.
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${what} must be a non-empty string`)
  return value
}

/** Items that stand alone use their pk as sk too. */
function single (pk: string): ItemKey {
  return { pk, sk: pk }
}

export const clientKey = (clientId: string): ItemKey => single(`CLIENT#${part('clientId', clientId)}`)
export const transactionKey = (id: string): ItemKey => single(`TX#${part('transaction id', id)}`)
export const codeKey = (codeHash: string): ItemKey => single(`CODE#${part('codeHash', codeHash)}`)
export const grantKey = (grantId: string): ItemKey => single(`GRANT#${part('grantId', grantId)}`)
export const refreshTokenKey = (tokenHash: string): ItemKey => single(`RT#${part('tokenHash', tokenHash)}`)
export const consentKey = (sub: string, clientId: string): ItemKey =>
  ({ pk: `CONSENT#${part('sub', sub)}`, sk: `CLIENT#${part('clientId', clientId)}` })

/**
 * The table's one global secondary index: every grant item carries `gsi1pk = USER#<sub>` and
 * `gsi1sk = GRANT#<grantId>`, so a user's grants are one Query (the connected-apps page, the admin command).
 */
export const USER_INDEX = { name: 'byUser', pk: 'gsi1pk', sk: 'gsi1sk' } as const
export const userGrantsPartition = (sub: string): string => `USER#${part('sub', sub)}`
export const userGrantIndexKey = (sub: string, grantId: string): { gsi1pk: string, gsi1sk: string } =>
  ({ gsi1pk: userGrantsPartition(sub), gsi1sk: `GRANT#${part('grantId', grantId)}` })

export const datasetPartition = (): string => `DATASET#${DATASET_NAME}`
export const datasetRowKey = (id: string): ItemKey =>
  ({ pk: datasetPartition(), sk: `${DATASET_ROW_PREFIX}${part('dataset record id', id)}` })

/** A resumable MCP response stream: one partition per stream, one item per event, in `seq` order. */
const STREAM_EVENT_PREFIX = 'EVENT#'
export const streamPartition = (streamId: string): string => `STREAM#${part('stream id', streamId)}`
export const streamEventKey = (streamId: string, seq: number): ItemKey => {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_STREAM_EVENT_SEQ) throw new TypeError(`stream event seq must be an integer 0…${MAX_STREAM_EVENT_SEQ}`)
  // Zero-padded so that the sort key orders events as their seq does.
  return { pk: streamPartition(streamId), sk: `${STREAM_EVENT_PREFIX}${String(seq).padStart(String(MAX_STREAM_EVENT_SEQ).length, '0')}` }
}
