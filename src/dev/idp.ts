// Development identity provider: a real OpenID provider (oidc-provider) that stands in for Cognito's
// hosted UI in local runs and tests. Its tokens are shaped like Cognito's so that everything
// downstream of the upstream adapter sees what it will see in production.
// Local only: src/app.ts never imports src/dev, so the Lambda bundle cannot carry it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual, createHash } from 'node:crypto'
import Provider, { errors, type InteractionDetails } from 'oidc-provider'
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js'
import { DEMO_USERS, type DevUser } from './users.ts'
import { renderLoginPage, sendHtml } from './login-page.ts'

export interface DevIdpClientOptions {
  clientId: string
  /** Absent = a public client (token endpoint auth `none`). */
  clientSecret?: string
  redirectUris: string[]
}

export interface DevIdpTtlOptions {
  /** Seconds; Cognito's default is one hour. */
  accessToken?: number
  idToken?: number
  refreshToken?: number
}

export interface DevIdpOptions {
  /** Default `http://<host>:<port>` (the bound port when `port` is 0). */
  issuer?: string
  port: number
  /** Default 127.0.0.1: a development tool never listens beyond loopback unless told to. */
  host?: string
  clients: DevIdpClientOptions[]
  ttl?: DevIdpTtlOptions
  users?: readonly DevUser[]
}

export interface DevIdp {
  /** Known after listen() when the port was 0. */
  readonly issuer: string
  listen (): Promise<string>
  close (): Promise<void>
}

/**
 * The resource every access token is issued for, so that oidc-provider issues JWT access tokens. It
 * becomes their `aud` (oidc-provider requires one; Cognito's have none and APIs check `client_id`).
 */
export const DEV_IDP_RESOURCE_PATH = '/resource'
const RESOURCE_SCOPES = 'openid email profile phone aws.cognito.signin.user.admin'
const CLOCK_TOLERANCE = 5

export function createDevIdp (options: DevIdpOptions): DevIdp {
  const host = options.host ?? '127.0.0.1'
  const users = options.users ?? DEMO_USERS
  let issuer = options.issuer ?? (options.port === 0 ? '' : originFor(host, options.port))
  let provider: Provider | undefined
  let providerHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined

  const server = createServer((req, res) => {
    handle(req, res).catch(err => {
      process.stderr.write(`dev-idp: ${req.method} ${pathOf(req)} failed: ${(err as Error).message}\n`)
      if (!res.headersSent) { res.statusCode = 500; res.setHeader('Content-Type', 'text/plain') }
      res.end('internal error')
    })
  })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (provider === undefined || providerHandler === undefined) throw new Error('not listening')
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(pathOf(req))
    if (match === null) { providerHandler(req, res); return }
    await interaction(provider, req, res, match[2] !== undefined)
  }

  async function interaction (op: Provider, req: IncomingMessage, res: ServerResponse, loginPost: boolean): Promise<void> {
    let details: InteractionDetails
    try {
      details = await op.interactionDetails(req, res)
    } catch {
      // Expired interaction or a browser without the interaction cookie.
      sendHtml(res, 400, '<!DOCTYPE html><title>Sign-in expired</title><p>This sign-in request has expired. Start again from the application.</p>')
      return
    }
    const { uid, prompt, params } = details
    const clientId = String(params.client_id ?? '')
    const action = `/interaction/${uid}/login`

    if (prompt.name === 'login') {
      if (!loginPost && req.method === 'GET') {
        sendHtml(res, 200, renderLoginPage({ action, clientId }))
        return
      }
      if (loginPost && req.method === 'POST') {
        const form = await readForm(req)
        const username = form.get('username') ?? ''
        const user = authenticate(users, username, form.get('password') ?? '')
        if (user === undefined) {
          sendHtml(res, 401, renderLoginPage({ action, clientId, username, error: 'Incorrect username or password.' }))
          return
        }
        await op.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false })
        return
      }
    }

    if (prompt.name === 'consent' && req.method === 'GET') {
      // gatehouse shows its own consent page; inside the IdP consent is granted as asked.
      const accountId = details.session?.accountId
      if (accountId === undefined) throw new Error('consent prompt without a session account')
      const grant = (details.grantId !== undefined ? await op.Grant.find(details.grantId) : undefined) ??
        new op.Grant({ accountId, clientId })
      const missing = prompt.details as { missingOIDCScope?: string[], missingOIDCClaims?: string[], missingResourceScopes?: Record<string, string[]> }
      if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '))
      if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims)
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '))
      const grantId = await grant.save()
      await op.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
      return
    }

    res.statusCode = 405
    res.setHeader('Allow', prompt.name === 'login' && loginPost ? 'POST' : 'GET')
    res.end()
  }

  function build (iss: string): Provider {
    const resource = `${iss}${DEV_IDP_RESOURCE_PATH}`
    const ttl = { accessToken: 3600, idToken: 3600, refreshToken: 30 * 24 * 3600, ...options.ttl }
    const byId = new Map(users.map(u => [u.sub, u]))
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })

    const op = new Provider(iss, {
      adapter: createMemoryAdapter(CLOCK_TOLERANCE),
      clockTolerance: CLOCK_TOLERANCE,
      clients: options.clients.map(c => ({
        client_id: c.clientId,
        ...(c.clientSecret === undefined ? { token_endpoint_auth_method: 'none' } : { client_secret: c.clientSecret, token_endpoint_auth_method: 'client_secret_basic' }),
        redirect_uris: c.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code']
      })),
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      jwks: { keys: [{ ...key, kid: randomUUID(), alg: 'RS256', use: 'sig' }] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      responseTypes: ['code'],
      pkce: { required: () => true },
      scopes: ['openid', 'email', 'profile', 'phone', 'offline_access', 'aws.cognito.signin.user.admin'],
      claims: {
        // Cognito puts these in every ID token, whatever the scope.
        openid: ['sub', 'cognito:username', 'cognito:groups', 'token_use'],
        email: ['email', 'email_verified'],
        profile: ['preferred_username']
      },
      // Claims go in the ID token even though an access token is issued too, as Cognito does.
      conformIdTokenClaims: false,
      findAccount: (_ctx: unknown, sub: string) => {
        const user = byId.get(sub)
        if (user === undefined) return undefined
        return {
          accountId: sub,
          claims: (use: string) => ({
            sub,
            'cognito:username': user.username,
            ...(user.groups.length > 0 ? { 'cognito:groups': [...user.groups] } : {}),
            ...(use === 'id_token' ? { token_use: 'id' } : {}),
            email: user.email,
            email_verified: true,
            preferred_username: user.username
          })
        }
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        revocation: {
          enabled: true,
          allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => client.clientId === token.clientId
        },
        resourceIndicators: {
          enabled: true,
          // gatehouse sends no resource parameter; every token is for this one resource, which makes it a JWT.
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (indicator !== resource) throw new errors.InvalidTarget()
            return { scope: RESOURCE_SCOPES, accessTokenTTL: ttl.accessToken, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
          }
        }
      },
      extraTokenClaims: (_ctx: unknown, token: { kind: string, accountId?: string }) => {
        if (token.kind !== 'AccessToken' || token.accountId === undefined) return undefined
        const user = byId.get(token.accountId)
        return {
          token_use: 'access',
          username: user?.username,
          ...(user !== undefined && user.groups.length > 0 ? { 'cognito:groups': [...user.groups] } : {})
        }
      },
      // Cognito issues a refresh token on every authorization_code exchange, without offline_access,
      // and does not rotate it on use.
      issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed: (type: string) => boolean }) => client.grantTypeAllowed('refresh_token'),
      expiresWithSession: () => false,
      rotateRefreshToken: () => false,
      ttl: {
        AccessToken: ttl.accessToken,
        AuthorizationCode: 60,
        IdToken: ttl.idToken,
        RefreshToken: ttl.refreshToken,
        Interaction: 600,
        Session: 24 * 3600,
        Grant: ttl.refreshToken
      },
      clientBasedCORS: () => false,
      renderError: (ctx: { type: string, body: string, status: number }, out: Record<string, string>) => {
        ctx.type = 'html'
        ctx.body = `<!DOCTYPE html><title>Sign-in error</title><h1>Sign-in error</h1><p>${escapeText(out.error ?? 'error')}: ${escapeText(out.error_description ?? '')}</p>`
      }
    })
    op.on('server_error', (_ctx: unknown, err: Error) => { process.stderr.write(`dev-idp: server_error: ${err.message}\n`) })
    return op
  }

  return {
    get issuer () { return issuer },
    async listen () {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(options.port, host, () => { server.off('error', reject); resolve() })
      })
      if (issuer === '') issuer = originFor(host, (server.address() as AddressInfo).port)
      provider = build(issuer)
      providerHandler = provider.callback()
      return issuer
    },
    async close () {
      if (!server.listening) return
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    }
  }
}

function authenticate (users: readonly DevUser[], username: string, password: string): DevUser | undefined {
  const user = users.find(u => u.username === username)
  // Compare digests so the comparison takes the same time whatever the lengths.
  const given = createHash('sha256').update(password).digest()
  const expected = createHash('sha256').update(user?.password ?? randomUUID()).digest()
  return timingSafeEqual(given, expected) && user !== undefined ? user : undefined
}

async function readForm (req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += String(chunk)
    if (body.length > 16_384) throw new Error('form too large')
  }
  return new URLSearchParams(body)
}

function originFor (host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

function pathOf (req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/'
}

function escapeText (value: string): string {
  return value.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}
