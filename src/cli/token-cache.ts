// The token command's cache: one JSON file in the user's config directory, readable by its owner only.
// Entries are kept per issuer and resource; a file with any other mode is refused, not repaired, because
// someone may already have read the tokens in it.
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { CliError } from './io.ts'

export interface CachedClient {
  client_id: string
  client_secret?: string
  /** How it was obtained: registered (RFC 7591) or a client ID metadata document URL. */
  kind: 'registered' | 'metadata-document'
}

export interface CachedTokens {
  issuer: string
  resource: string
  token_endpoint: string
  revocation_endpoint?: string
  client: CachedClient
  access_token?: string
  token_type?: string
  /** Epoch seconds. */
  expires_at?: number
  scope?: string
  refresh_token?: string
}

interface CacheFile { version: 1, entries: Record<string, CachedTokens>, clients: Record<string, CachedClient> }

/** $GATEHOUSE_CONFIG_DIR, else $XDG_CONFIG_HOME/gatehouse, else ~/.config/gatehouse. */
export function configDir (env: Record<string, string | undefined>): string {
  if (env.GATEHOUSE_CONFIG_DIR !== undefined && env.GATEHOUSE_CONFIG_DIR !== '') return env.GATEHOUSE_CONFIG_DIR
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config')
  return join(base, 'gatehouse')
}

const entryKey = (issuer: string, resource: string): string => `${issuer} ${resource}`

export class TokenCache {
  readonly path: string
  constructor (dir: string) { this.path = join(dir, 'tokens.json') }

  async #read (): Promise<CacheFile> {
    let info
    try { info = await stat(this.path) } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: {}, clients: {} }
      throw error
    }
    const mode = info.mode & 0o777
    if (mode !== 0o600) {
      throw new CliError(`the token cache ${this.path} has mode ${mode.toString(8).padStart(4, '0')}; it holds tokens, so only its owner may read it. Delete it (the tokens in it may have been read: run gatehouse logout, or revoke them on the connected apps page) or make it private: chmod 600 ${this.path}`)
    }
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<CacheFile>
      return { version: 1, entries: parsed.entries ?? {}, clients: parsed.clients ?? {} }
    } catch {
      throw new CliError(`the token cache ${this.path} is not valid JSON; delete it and sign in again`)
    }
  }

  async #write (file: CacheFile): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
    const temp = `${this.path}.${process.pid}.tmp`
    await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
    await chmod(temp, 0o600)
    await rename(temp, this.path)
  }

  /** The entry for this resource (whatever its issuer: the resource names it). */
  async find (resource: string): Promise<CachedTokens | undefined> {
    const file = await this.#read()
    return Object.values(file.entries).find(entry => entry.resource === resource)
  }

  async save (entry: CachedTokens): Promise<void> {
    const file = await this.#read()
    file.entries[entryKey(entry.issuer, entry.resource)] = entry
    await this.#write(file)
  }

  async forget (entry: Pick<CachedTokens, 'issuer' | 'resource'>): Promise<void> {
    const file = await this.#read()
    delete file.entries[entryKey(entry.issuer, entry.resource)]
    await this.#write(file)
  }

  /** A client registered once per issuer (and redirect style), reused by every resource of that issuer. */
  async client (issuer: string): Promise<CachedClient | undefined> {
    return (await this.#read()).clients[issuer]
  }

  async saveClient (issuer: string, client: CachedClient): Promise<void> {
    const file = await this.#read()
    file.clients[issuer] = client
    await this.#write(file)
  }
}
