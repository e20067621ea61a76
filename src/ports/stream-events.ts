// The events of resumable MCP response streams (Streamable HTTP "Resumability and Redelivery"), kept for a
// few minutes so that a client whose stream broke off can fetch the rest with GET + Last-Event-ID from any
// gatehouse instance. The DynamoDB adapter (src/store/models/stream-events.ts) implements it.

/** The largest `seq` a stream can have: the key schema writes it in 6 digits (src/store/keys.ts). */
export const MAX_STREAM_EVENT_SEQ = 999_999

/** One event of one response stream. */
export interface StreamEventRecord {
  /** Random, unguessable: the stream's id, the first half of every event id on it. */
  streamId: string
  /** 0 for the priming event (no message), then 1, 2, … in the order the events were sent. */
  seq: number
  /** Who may read the stream back: a hash of the caller and session it was opened for (src/mcp/resumable.ts). Every event carries it. */
  owner: string
  /** The JSON-RPC message as sent; '' for the priming event. */
  message: string
  /** The stream's answer to its request: nothing follows it. */
  final: boolean
  /** Epoch seconds. */
  expiresAt: number
}

export interface StreamEventStore {
  /** Appends one event; an event with the same stream and seq is a bug (StoreConflictError). */
  saveStreamEvent (event: StreamEventRecord): Promise<void>
  /**
   * One read of a stream: up to `limit` live events with seq ≥ `fromSeq`, in order of seq; expired ones are left
   * out. Fewer than `limit` may come back while more follow: read again after the last one.
   */
  listStreamEvents (streamId: string, fromSeq: number, limit: number): Promise<StreamEventRecord[]>
  /** Moves a live event's expiry to `expiresAt`; false when the event is gone or has expired. */
  extendStreamEvent (streamId: string, seq: number, expiresAt: number): Promise<boolean>
}
