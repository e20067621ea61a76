// What every gatehouse command writes to, so tests can capture it, and the one error type a command
// throws for a failure the user can act on (its message says what to do; no stack is shown).

export interface CliIo {
  out (line: string): void
  err (line: string): void
}

export const PROCESS_IO: CliIo = {
  out: line => { process.stdout.write(`${line}\n`) },
  err: line => { process.stderr.write(`${line}\n`) }
}

/** A failure the user can fix; `exitCode` 2 is a usage error. */
export class CliError extends Error {
  readonly exitCode: number
  constructor (message: string, exitCode = 1) { super(message); this.name = 'CliError'; this.exitCode = exitCode }
}

/** Epoch seconds as an ISO date-time without milliseconds; '-' for none. */
export function isoTime (seconds: number | undefined): string {
  return seconds === undefined || seconds === 0 ? '-' : new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z')
}
