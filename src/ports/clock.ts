// The clock port: every time the rules decide with is epoch seconds from here, so tests can move it.

export interface Clock {
  /** Epoch seconds. */
  now (): number
}

export const SYSTEM_CLOCK: Clock = { now: () => Math.floor(Date.now() / 1000) }
