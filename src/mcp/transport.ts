// A minimal MCP transport for one long-lived server shared by concurrent HTTP requests (DESIGN decision 9).
// Each HTTP request's JSON-RPC requests are renumbered with ids unique to this process before the server
// sees them, and each response is routed back, under the client's own id, to the exchange that sent it.
// So every request has its own id space: two users sending id 1 at once can never get each other's answer,
// and the server's per-id bookkeeping (abort controllers) never collides.
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js'

type Reply = Exclude<JSONRPCMessage, JSONRPCRequest | { method: string }>

interface Pending {
  clientId: RequestId
  resolve: (message: Reply) => void
}

export class RequestScopedTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void

  #next = 0
  readonly #pending = new Map<number, Pending>()
  #closed = false

  async start (): Promise<void> {}

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const [id, pending] of this.#pending) {
      pending.resolve({ jsonrpc: '2.0', id: pending.clientId, error: { code: -32001, message: 'server is shutting down' } } as Reply)
      this.#pending.delete(id)
    }
    this.onclose?.()
  }

  /** Called by the server for every outgoing message: responses go back to their exchange, the rest is dropped. */
  async send (message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (!('id' in message) || 'method' in message) {
      // Notifications and server-to-client requests need a stream; stateless JSON responses have none.
      return
    }
    const pending = this.#pending.get(message.id as number)
    if (pending === undefined) return
    this.#pending.delete(message.id as number)
    pending.resolve({ ...message, id: pending.clientId } as Reply)
  }

  /**
   * Delivers one HTTP request's JSON-RPC requests to the server and resolves with their responses, in order.
   * `extra.authInfo` carries this request's caller to the handlers.
   */
  exchange (requests: readonly JSONRPCRequest[], extra: MessageExtraInfo): Promise<Reply[]> {
    return Promise.all(requests.map(request => this.exchangeOne(request, extra)))
  }

  /** The same for a single request (the usual case: batches exist only in 2025-03-26). */
  exchangeOne (request: JSONRPCRequest, extra: MessageExtraInfo): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('transport closed'))
    const onmessage = this.onmessage
    if (onmessage === undefined) return Promise.reject(new Error('transport not connected'))
    const id = this.#nextId()
    const answer = new Promise<Reply>(resolve => { this.#pending.set(id, { clientId: request.id, resolve }) })
    onmessage({ ...request, id }, extra)
    return answer
  }

  /** How many requests are in flight (tests and metrics). */
  get inFlight (): number { return this.#pending.size }

  #nextId (): number {
    this.#next = this.#next >= Number.MAX_SAFE_INTEGER ? 1 : this.#next + 1
    return this.#next
  }
}
