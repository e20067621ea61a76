#!/usr/bin/env node
// The `gatehouse` command (package.json `bin`; Node ≥ 22.18 runs this TypeScript file as is). The user's
// commands (token, call, tools, logout) talk to a gatehouse over HTTP; `admin` opens the configured store
// with the app's own settings (src/config.ts). This file wires; the commands live beside it. Nothing here
// is reachable from the Lambda bundle (test/dev/not-in-lambda-bundle.test.ts).
import { loadConfig, type Config } from '../config.ts'
import type { AdminServices } from './admin.ts'
import { CliError, PROCESS_IO, type CliIo } from './io.ts'

export const USAGE = `usage: gatehouse <command>
  token <mcp-url> [--json] [--no-browser] [--client-id-url <url>]   print an access token (logs in once, then refreshes)
  call <mcp-url> <tool> [json-args]                                 call a tool with the cached token
  tools <mcp-url>                                                   list the server's tools
  logout <mcp-url>                                                  revoke the tokens and forget them
  admin <command>                                                   operate the configured store (gatehouse admin help)`

/** The admin command's adapters, from the same configuration as the app. */
export async function openAdminServices (config: Config): Promise<AdminServices & { close (): Promise<void> }> {
  const [{ openStore }, crypto, { createUpstream }] = await Promise.all([import('../store/index.ts'), import('../crypto/index.ts'), import('../upstream/create-upstream.ts')])
  const { SYSTEM_CLOCK } = await import('../ports/clock.ts')
  const opened = await openStore({ ...config.store, dataDir: config.dataDir, inLambda: false, clock: SYSTEM_CLOCK })
  try {
    const [keys, cipher, secrets] = await Promise.all([crypto.createKeySet(config, SYSTEM_CLOCK), crypto.createCipher(config), crypto.resolveSecrets(config)])
    const upstream = createUpstream(config.upstream, {
      redirectUri: `${config.publicUrl}/callback`,
      ...(secrets.upstreamClientSecret === undefined ? {} : { clientSecret: secrets.upstreamClientSecret }),
      now: () => SYSTEM_CLOCK.now()
    })
    return {
      store: opened.store,
      clock: SYSTEM_CLOCK,
      keys,
      cipher,
      upstream,
      // Audit events of the admin command go to stderr as JSON lines, like the app's.
      audit: { event: (name, fields) => { process.stderr.write(`${JSON.stringify({ audit: name, actor: 'admin', ...fields })}\n`) } },
      keySource: config.keys.kmsSigningKeyId === undefined
        ? { kind: 'local', dataDir: config.dataDir }
        : { kind: 'kms', currentKeyId: config.keys.kmsSigningKeyId, previousKeyIds: config.keys.kmsPreviousSigningKeyIds },
      close: opened.close
    }
  } catch (error) {
    await opened.close()
    throw error
  }
}

export async function main (argv: string[], io: CliIo = PROCESS_IO, env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'admin': {
        const { runAdmin, ADMIN_USAGE } = await import('./admin.ts')
        if (rest[0] === undefined || rest[0] === 'help' || rest[0] === '--help') { io.out(ADMIN_USAGE); return rest[0] === undefined ? 2 : 0 }
        const services = await openAdminServices(loadConfig(env))
        try { await runAdmin(rest, io, services) } finally { await services.close() }
        return 0
      }
      case 'token':
      case 'call':
      case 'tools':
      case 'logout': {
        const { runUserCommand } = await import('./user-commands.ts')
        await runUserCommand(command, rest, io, env)
        return 0
      }
      case 'help':
      case '--help':
        io.out(USAGE)
        return 0
      default:
        io.err(`${command === undefined ? 'a command is required' : `unknown command ${command}`}\n${USAGE}`)
        return 2
    }
  } catch (error) {
    if (error instanceof CliError) { io.err(`gatehouse: ${error.message}`); return error.exitCode }
    if (error instanceof Error && (error.name === 'ConfigError' || error.name === 'StoreUnavailableError' || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true)) {
      io.err(`gatehouse: ${error.message}`)
      return error.name === 'ConfigError' || error.name === 'StoreUnavailableError' ? 1 : 2
    }
    io.err(`gatehouse: unexpected error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
    return 1
  }
}

if (import.meta.main === true) process.exitCode = await main(process.argv.slice(2))
