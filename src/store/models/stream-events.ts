// The events of resumable MCP response streams: one partition per stream, one item per event, each with a
// short expiry (DynamoDB's TTL removes them; reads skip expired ones before that).
import type { StreamEventRecord, StreamEventStore } from '../../ports/stream-events.ts'
import type { DynamoTable } from '../dynamo-table.ts'
import { KIND, STREAM_EVENT_PREFIX, streamEventKey, streamPartition } from '../keys.ts'

export class DynamoStreamEventStore implements StreamEventStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async saveStreamEvent (event: StreamEventRecord): Promise<void> {
    await this.#table.create(KIND.streamEvent, streamEventKey(event.streamId, event.seq), event, `stream event ${event.streamId}/${event.seq} already exists`)
  }

  /** Strongly consistent: an event another instance stored a moment ago must be replayed. */
  async listStreamEvents (streamId: string): Promise<StreamEventRecord[]> {
    return await this.#table.queryPrefix<StreamEventRecord>('Query stream events', streamPartition(streamId), STREAM_EVENT_PREFIX, { withExpiry: true })
  }
}
