// Backend sessions (Streamable HTTP `Mcp-Session-Id`) bound to the grant that opened them. The client never
// sees the backend's session id: it gets that id sealed (AES-256-GCM through the cipher port) with the
// backend's name and the grant id as additional data, so a session id presented with another grant's token,
// or at another backend, does not open and is refused before anything is forwarded. Nothing is stored: any
// gatehouse instance can check a session id. Sessions this instance sealed or opened are remembered (bounded),
// so that when their grant is revoked the backend is told to end them (the sweep); and any instance that sees
// a revoked grant's token with one of its session ids ends that session before refusing the request.
import type { Caller } from '../mcp/caller.ts'
import { KeyServiceError, type Cipher } from '../ports/cipher.ts'
import type { Clock } from '../ports/clock.ts'
import type { GrantStore } from '../ports/store.ts'
import { isGrantActive } from '../oauth/grants/issue.ts'

export interface OpenSession {
  backend: string
  backendSessionId: string
  caller: Caller
}

export interface GatewaySessionsOptions {
  cipher: Pick<Cipher, 'seal' | 'open'>
  grants: Pick<GrantStore, 'findGrant'>
  clock: Clock
  /** Tells the backend a session is over (DELETE); failures are the caller's to log. */
  end: (session: OpenSession) => Promise<void>
  maxSessions?: number
}

const contextOf = (backend: string, caller: Caller): string => `gateway-session\0${backend}\0${caller.grantId ?? `sub:${caller.sub}`}`
const MAX_SESSION_ID = 2048

export class GatewaySessions {
  readonly #options: GatewaySessionsOptions
  /** Sessions this instance sealed or opened, by sealed id, oldest first; the oldest is forgotten past the bound. */
  readonly #open = new Map<string, OpenSession>()
  readonly #max: number
  /** Sealed ids of sessions this instance ended for a refused request, oldest first (bounded like #open). */
  readonly #ended = new Set<string>()

  constructor (options: GatewaySessionsOptions) {
    this.#options = options
    this.#max = options.maxSessions ?? 10_000
  }

  /** The session id the client sees for the backend's `backendSessionId`. */
  async bind (backend: string, caller: Caller, backendSessionId: string): Promise<string> {
    const sealed = await this.#options.cipher.seal(backendSessionId, contextOf(backend, caller))
    this.#remember(sealed, { backend, backendSessionId, caller })
    return sealed
  }

  #remember (sealed: string, session: OpenSession): void {
    if (this.#open.size >= this.#max && !this.#open.has(sealed)) this.#open.delete(this.#open.keys().next().value as string)
    this.#open.set(sealed, session)
  }

  /**
   * The backend's session id, or undefined when `presented` was not issued to this grant at this backend.
   * A session this instance already knows (it sealed or opened that exact id) is answered from memory when
   * backend and grant match what it was sealed for, the same verdict opening it again would give; any other
   * id is opened, and remembered, so this instance's sweep ends it too when its grant is revoked.
   */
  async resolve (backend: string, caller: Caller, presented: string): Promise<string | undefined> {
    if (presented.length > MAX_SESSION_ID) return undefined
    const context = contextOf(backend, caller)
    const known = this.#open.get(presented)
    if (known !== undefined && contextOf(known.backend, known.caller) === context) return known.backendSessionId
    let backendSessionId: string
    try {
      backendSessionId = await this.#options.cipher.open(presented, context)
    } catch (error) {
      // An outage of the key service is not a refusal: the client may retry with the same session.
      if (error instanceof KeyServiceError) throw error
      return undefined
    }
    this.#remember(presented, { backend, backendSessionId, caller })
    return backendSessionId
  }

  /**
   * A request refused for its grant may name a backend session sealed for that grant. Whichever instance opened
   * it (the sweep reaches only the sessions an instance has seen), this one ends it on the backend, when the id
   * opens for this caller's grant and backend and the store says that grant is revoked, expired or gone.
   * Returns whether it was ended; each sealed id is ended once per instance.
   */
  async endIfGrantInactive (backend: string, caller: Caller, presented: string): Promise<boolean> {
    const grantId = caller.grantId
    if (grantId === undefined || this.#ended.has(presented)) return false
    const backendSessionId = await this.resolve(backend, caller, presented)
    if (backendSessionId === undefined) return false
    if (isGrantActive(await this.#options.grants.findGrant(grantId), this.#options.clock.now())) return false
    this.#open.delete(presented)
    if (this.#ended.size >= this.#max) this.#ended.delete(this.#ended.values().next().value as string)
    this.#ended.add(presented)
    await this.#options.end({ backend, backendSessionId, caller })
    return true
  }

  /** The client ended the session itself. */
  forget (presented: string): void { this.#open.delete(presented) }

  get size (): number { return this.#open.size }

  /** Ends every remembered session whose grant is revoked, expired or gone; returns how many. */
  async sweep (): Promise<number> {
    const now = this.#options.clock.now()
    const verdicts = new Map<string, Promise<boolean>>()
    let ended = 0
    for (const [presented, session] of [...this.#open.entries()]) {
      const grantId = session.caller.grantId
      if (grantId === undefined) continue
      let live = verdicts.get(grantId)
      if (live === undefined) {
        live = this.#options.grants.findGrant(grantId).then(grant => isGrantActive(grant, now), () => true)
        verdicts.set(grantId, live)
      }
      if (await live) continue
      this.#open.delete(presented)
      ended++
      await this.#options.end(session).catch(() => undefined)
    }
    return ended
  }
}
