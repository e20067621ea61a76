// gatehouse token | call | tools | logout <mcp-url>: what a person needs to use an MCP server behind
// gatehouse from a terminal, in place of a hand-run token script and curl. Tokens are cached per issuer
// and resource (token-cache.ts) and refreshed silently; a login happens only when there is no usable token.
import { spawn } from 'node:child_process'
import { parseArgs } from 'node:util'
import type { TokenEndpointResponse } from 'oauth4webapi'
import { CliError, type CliIo } from './io.ts'
import { discover, login, refresh, registerClient, revoke } from './oauth-client.ts'
import { configDir, TokenCache, type CachedTokens } from './token-cache.ts'

/** A token this close to its expiry is refreshed first. */
const EXPIRY_MARGIN = 30

interface TokenOptions { json: boolean, browser: boolean, clientIdUrl: string | undefined, port: number }

function mcpUrlOf (value: string | undefined): string {
  if (value === undefined) throw new CliError('an MCP URL is required (e.g. https://mcp.example.com/mcp)', 2)
  let url: URL
  try { url = new URL(value) } catch { throw new CliError(`${value} is not a URL`, 2) }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError(`${value} is not an http(s) URL`, 2)
  return url.href
}

function openBrowser (url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]]
  const child = spawn(command as string, args as string[], { stdio: 'ignore', detached: true })
  child.on('error', () => { /* no browser here: the URL is printed too */ })
  child.unref()
}

function withTokens (entry: CachedTokens, tokens: TokenEndpointResponse, now: number): CachedTokens {
  // oauth4webapi lowercases token_type; the scheme is case-insensitive and is printed as the server sent it.
  const next: CachedTokens = { ...entry, access_token: tokens.access_token, token_type: tokens.token_type === 'bearer' ? 'Bearer' : tokens.token_type }
  if (tokens.expires_in !== undefined) next.expires_at = now + tokens.expires_in
  if (tokens.scope !== undefined) next.scope = tokens.scope
  if (tokens.refresh_token !== undefined) next.refresh_token = tokens.refresh_token
  return next
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** A usable access token for the URL: cached, refreshed, or from a new login. */
async function accessToken (mcpUrl: string, options: TokenOptions, cache: TokenCache, io: CliIo): Promise<CachedTokens> {
  const cached = await cache.find(mcpUrl)
  if (cached?.access_token !== undefined && (cached.expires_at ?? Infinity) - EXPIRY_MARGIN > nowSeconds()) return cached
  if (cached?.refresh_token !== undefined) {
    const refreshed = await refresh(cached)
    if (refreshed !== undefined) {
      const next = withTokens(cached, refreshed, nowSeconds())
      await cache.save(next)
      return next
    }
    // Keep the client registration; the tokens are dead.
    await cache.forget(cached)
    throw new CliError(`the saved sign-in for ${mcpUrl} has expired or was revoked; a new login is needed: run gatehouse token ${mcpUrl}`)
  }
  const found = await discover(mcpUrl)
  const issuer = found.as.issuer
  let client = options.clientIdUrl === undefined ? await cache.client(issuer) : undefined
  if (client === undefined) {
    client = await registerClient(found.as, options.clientIdUrl)
    if (client.kind === 'registered') await cache.saveClient(issuer, client)
  }
  const tokens = await login({
    as: found.as,
    client,
    resource: found.resource,
    scopes: found.scopes,
    port: options.port,
    present: async url => {
      io.err(options.browser ? `Opening your browser to sign in. If it does not open, visit:\n${url}` : `Open this URL in a browser to sign in:\n${url}`)
      if (options.browser) openBrowser(url)
    }
  })
  const entry: CachedTokens = withTokens({
    issuer,
    resource: mcpUrl,
    token_endpoint: found.as.token_endpoint as string,
    ...(found.as.revocation_endpoint === undefined ? {} : { revocation_endpoint: found.as.revocation_endpoint }),
    client
  }, tokens, nowSeconds())
  await cache.save(entry)
  return entry
}

function tokenOptions (values: { json?: boolean, 'no-browser'?: boolean, 'client-id-url'?: string, port?: string }): TokenOptions {
  const port = values.port === undefined ? 0 : Number(values.port)
  if (values.port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new CliError(`--port must be a port number (1-65535), got ${values.port}`, 2)
  return { json: values.json === true, browser: values['no-browser'] !== true, clientIdUrl: values['client-id-url'], port }
}

async function connect (mcpUrl: string, accessTokenValue: string): Promise<import('@modelcontextprotocol/sdk/client/index.js').Client> {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js')
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js')
  const client = new Client({ name: 'gatehouse-cli', version: '1' })
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessTokenValue}` } } })
  try {
    await client.connect(transport)
  } catch (error) {
    throw new CliError(`cannot open an MCP session at ${mcpUrl}: ${(error as Error).message}`)
  }
  return client
}

export async function runUserCommand (command: string, argv: string[], io: CliIo, env: Record<string, string | undefined>): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'no-browser': { type: 'boolean' },
      'client-id-url': { type: 'string' },
      port: { type: 'string' }
    }
  })
  const mcpUrl = mcpUrlOf(positionals[0])
  const cache = new TokenCache(configDir(env))
  const options = tokenOptions(values)
  switch (command) {
    case 'token': {
      const entry = await accessToken(mcpUrl, options, cache, io)
      if (!options.json) { io.out(entry.access_token as string); return }
      const expiresAt = entry.expires_at
      io.out(JSON.stringify({
        access_token: entry.access_token,
        token_type: entry.token_type ?? 'Bearer',
        expires_in: expiresAt === undefined ? null : Math.max(0, expiresAt - nowSeconds()),
        expires_at: expiresAt ?? null,
        scope: entry.scope ?? null,
        client_id: entry.client.client_id
      }, null, 2))
      return
    }
    case 'tools': {
      const entry = await accessToken(mcpUrl, options, cache, io)
      const client = await connect(mcpUrl, entry.access_token as string)
      try {
        const { tools } = await client.listTools()
        if (options.json) io.out(JSON.stringify(tools, null, 2))
        else for (const tool of tools) io.out(`${tool.name}\t${(tool.description ?? '').split('\n')[0]}`)
      } finally { await client.close() }
      return
    }
    case 'call': {
      const tool = positionals[1]
      if (tool === undefined) throw new CliError('a tool name is required: gatehouse call <mcp-url> <tool> [json-args]', 2)
      let args: Record<string, unknown> = {}
      if (positionals[2] !== undefined) {
        try { args = JSON.parse(positionals[2]) as Record<string, unknown> } catch { throw new CliError(`the arguments must be a JSON object, e.g. '{"limit": 5}'; got ${positionals[2]}`, 2) }
        if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new CliError('the arguments must be a JSON object', 2)
      }
      const entry = await accessToken(mcpUrl, options, cache, io)
      const client = await connect(mcpUrl, entry.access_token as string)
      try {
        const result = await client.callTool({ name: tool, arguments: args })
        if (options.json) io.out(JSON.stringify(result, null, 2))
        else for (const item of result.content as Array<{ type: string, text?: string }>) io.out(item.type === 'text' ? item.text ?? '' : JSON.stringify(item))
        if (result.isError === true) throw new CliError(`the tool ${tool} reported an error`)
      } finally { await client.close() }
      return
    }
    case 'logout': {
      const entry = await cache.find(mcpUrl)
      if (entry === undefined) { io.out(`not signed in to ${mcpUrl}`); return }
      const revoked = await revoke(entry)
      await cache.forget(entry)
      io.out(revoked ? `signed out of ${mcpUrl}: tokens revoked at ${entry.issuer} and forgotten` : `signed out of ${mcpUrl}: tokens forgotten (the server offers no revocation)`)
    }
  }
}
