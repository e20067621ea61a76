// The official MCP SDK client with its OAuth client provider, driven like a person would: when the SDK
// asks to open the browser, a walker (real HTTP, or a real browser) logs in at the IdP and answers the
// consent page; the SDK then exchanges the code. Starts from nothing but the /mcp URL.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { CookieJar, formSubmission, loginThroughForm } from './browserless-login.ts'

export type BrowserWalk = (authorizationUrl: URL, redirectUri: string) => Promise<URL>

/** Logs in through the dev IdP's form and clicks Allow (or Deny) on gatehouse's consent page. */
export function formWalker (username: string, password: string, options: { decision?: 'allow' | 'deny', cookies?: CookieJar } = {}): BrowserWalk {
  const cookies = options.cookies ?? new CookieJar()
  return async (authorizationUrl, redirectUri) => {
    const { url } = await loginThroughForm(authorizationUrl, username, password, {
      stopAt: redirectUri,
      cookies,
      headers: { 'sec-fetch-site': 'none' },
      onForm: (html, pageUrl) => html.includes('name="decision"')
        ? formSubmission(html, pageUrl, { button: { name: 'decision', value: options.decision ?? 'allow' } })
        : undefined
    })
    return url
  }
}

export class TestOAuthProvider implements OAuthClientProvider {
  readonly redirectUri: string
  readonly #walk: BrowserWalk
  readonly #metadata: OAuthClientMetadata
  #client: OAuthClientInformationMixed | undefined
  #tokens: OAuthTokens | undefined
  #verifier = ''
  /** The URL the browser walk ended on (code, state, iss or error). */
  lastRedirect: URL | undefined
  authorizationUrls: URL[] = []

  constructor (walk: BrowserWalk, options: { redirectUri?: string, scope?: string, clientName?: string, refreshTokens?: boolean } = {}) {
    this.#walk = walk
    this.redirectUri = options.redirectUri ?? 'http://127.0.0.1:53682/oauth/callback'
    this.#metadata = {
      redirect_uris: [this.redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: options.refreshTokens === false ? ['authorization_code'] : ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: options.clientName ?? 'gatehouse e2e client',
      ...(options.scope === undefined ? {} : { scope: options.scope })
    }
  }

  get redirectUrl (): string { return this.redirectUri }
  get clientMetadata (): OAuthClientMetadata { return this.#metadata }
  clientInformation (): OAuthClientInformationMixed | undefined { return this.#client }
  saveClientInformation (info: OAuthClientInformationMixed): void { this.#client = info }
  tokens (): OAuthTokens | undefined { return this.#tokens }
  saveTokens (tokens: OAuthTokens): void { this.#tokens = tokens }
  saveCodeVerifier (verifier: string): void { this.#verifier = verifier }
  codeVerifier (): string { return this.#verifier }

  async redirectToAuthorization (authorizationUrl: URL): Promise<void> {
    this.authorizationUrls.push(authorizationUrl)
    this.lastRedirect = await this.#walk(authorizationUrl, this.redirectUri)
  }

  /** The authorization code from the last redirect; throws with the OAuth error when there is none. */
  code (): string {
    const code = this.lastRedirect?.searchParams.get('code')
    if (code === null || code === undefined) throw new Error(`no code in redirect: ${this.lastRedirect?.href}`)
    return code
  }
}

/** Connects the official MCP client to `mcpUrl`, doing the whole OAuth dance on the first 401. */
export async function connectWithOAuth (mcpUrl: string, provider: TestOAuthProvider): Promise<Client> {
  const client = new Client({ name: 'gatehouse-e2e', version: '1.0.0' })
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider })
  try {
    await client.connect(first)
    return client
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error
  }
  await first.finishAuth(provider.code())
  const second = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider })
  await client.connect(second)
  return client
}
