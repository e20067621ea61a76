// The events of resumable MCP response streams: one partition per stream, one item per event, each with a
// short expiry (DynamoDB's TTL removes them lazily; reads skip expired ones before that).
import { MAX_STREAM_EVENT_SEQ, type StreamEventRecord, type StreamEventStore } from '../../ports/stream-events.ts'
import { CONDITION_FAILED, EXISTS_AND_LIVE, num, type DynamoTable } from '../dynamo-table.ts'
import { KIND, streamEventKey, streamPartition } from '../keys.ts'

export class DynamoStreamEventStore implements StreamEventStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveStreamEvent (event: StreamEventRecord): Promise<void> {
    await this.#table.create(KIND.streamEvent, streamEventKey(event.streamId, event.seq), event, `stream event ${event.streamId}/${event.seq} already exists`)
  }

  /** One Query from `fromSeq` on, Limit `limit`, strongly consistent: an event another instance stored a moment ago must be replayed. */
  async listStreamEvents (streamId: string, fromSeq: number, limit: number): Promise<StreamEventRecord[]> {
    const range = { from: streamEventKey(streamId, fromSeq).sk, to: streamEventKey(streamId, MAX_STREAM_EVENT_SEQ).sk }
    return await this.#table.queryRange<StreamEventRecord>('Query stream events', streamPartition(streamId), range, limit)
  }

  async extendStreamEvent (streamId: string, seq: number, expiresAt: number): Promise<boolean> {
    const result = await this.#table.update('UpdateItem stream event expiry', streamEventKey(streamId, seq), {
      update: 'SET expiresAt = :expiresAt',
      condition: EXISTS_AND_LIVE,
      values: { ...this.#table.live(), ':expiresAt': num(expiresAt) }
    })
    return result !== CONDITION_FAILED
  }
}
