// A small LRU of data-key promises with a time limit. Holding the promise (not the value) makes
// concurrent misses for the same key share one KMS call; a rejected promise is dropped at once, so
// failures are never cached.

export interface DataKeyCacheOptions {
  /** 0 disables caching. */
  maxEntries: number
  ttlMs: number
  /** Milliseconds; injectable for tests. */
  now?: () => number
}

interface Entry<T> {
  value: Promise<T>
  expiresAt: number
  uses: number
}

export class DataKeyCache<T> {
  readonly #entries = new Map<string, Entry<T>>()
  readonly #max: number
  readonly #ttlMs: number
  readonly #now: () => number

  constructor (options: DataKeyCacheOptions) {
    this.#max = options.maxEntries
    this.#ttlMs = options.ttlMs
    this.#now = options.now ?? Date.now
  }

  get size (): number { return this.#entries.size }

  /**
   * The cached value for `key`, or the result of `load()` (cached). `maxUses` bounds how many times one
   * entry is handed out, so a data key never encrypts unboundedly many messages.
   */
  get (key: string, load: () => Promise<T>, maxUses = Infinity): Promise<T> {
    const now = this.#now()
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      this.#entries.delete(key)
      if (hit.expiresAt > now && hit.uses < maxUses) {
        hit.uses++
        this.#entries.set(key, hit) // most recently used goes last
        return hit.value
      }
    }
    return this.#store(key, load(), 1)
  }

  /** Seeds an entry (e.g. the data key just generated for sealing, so opening it soon after is free). */
  put (key: string, value: T): void {
    void this.#store(key, Promise.resolve(value), 0)
  }

  clear (): void { this.#entries.clear() }

  #store (key: string, value: Promise<T>, uses: number): Promise<T> {
    if (this.#max <= 0) return value
    const entry: Entry<T> = { value, expiresAt: this.#now() + this.#ttlMs, uses }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!)
    value.catch(() => { if (this.#entries.get(key) === entry) this.#entries.delete(key) })
    return value
  }
}
