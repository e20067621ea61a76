// Placeholder replaced by the token/call/tools/logout commands.
import { CliError, type CliIo } from './io.ts'
export async function runUserCommand (command: string, _argv: string[], _io: CliIo, _env: Record<string, string | undefined>): Promise<void> {
  throw new CliError(`${command}: not available yet`)
}
