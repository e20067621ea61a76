// A strict OAuth client (oauth4webapi) driving a running gatehouse on loopback with the real development
// IdP: registration, authorization (consent + IdP login through real form posts), token exchanges.
import * as oauth from 'oauth4webapi'
import type { Test } from 'tap'
import { buildTestApp, freePort, type TestApp, type TestAppOptions } from './app.ts'
import { CookieJar, formSubmission, loginThroughForm } from './browserless-login.ts'
import { startDevIdpProcess, type DevIdpProcess } from './dev-idp.ts'

export const CLIENT_REDIRECT = 'http://127.0.0.1:53682/cb'

export interface Harness extends TestApp {
  idp: DevIdpProcess
  as: oauth.AuthorizationServer
  issuer: URL
  options: { [oauth.allowInsecureRequests]: true }
}

export async function startHarness (t: Test, options: TestAppOptions = {}): Promise<Harness> {
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const idp = await startDevIdpProcess({ redirectUris: [`${publicUrl}/callback`] })
  t.teardown(() => idp.stop())
  const app = await buildTestApp(t, {
    ...options,
    listen: true,
    port,
    env: { UPSTREAM_ISSUER: idp.issuer, UPSTREAM_CLIENT_ID: idp.clientId, UPSTREAM_CLIENT_SECRET: idp.clientSecret, INTROSPECTION_CLIENT_IDS: 'harness-resource-server', ...options.env }
  })
  const issuer = new URL(app.url)
  const opts = { [oauth.allowInsecureRequests]: true } as const
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oauth2' }))
  return { ...app, idp, as, issuer, options: opts }
}

export interface RegisteredClient {
  client: oauth.Client
  auth: oauth.ClientAuth
  secret?: string
}

export async function registerClient (h: Harness, metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const response = await oauth.dynamicClientRegistrationRequest(h.as, { redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'harness', ...metadata }, h.options)
  const client = await oauth.processDynamicClientRegistrationResponse(response)
  const secret = client.client_secret as string | undefined
  const method = client.token_endpoint_auth_method
  const auth = method === 'client_secret_basic' ? oauth.ClientSecretBasic(secret as string) : method === 'client_secret_post' ? oauth.ClientSecretPost(secret as string) : oauth.None()
  return secret === undefined ? { client, auth } : { client, auth, secret }
}

export interface AuthorizationResult {
  /** Where the browser ended: the client's redirect URI with code/state/iss or an error. */
  redirect: URL
  verifier: string
  state: string
  cookies: CookieJar
}

export async function authorize (h: Harness, client: oauth.Client, options: { username?: string, password?: string, scope?: string, decision?: 'allow' | 'deny', cookies?: CookieJar, extra?: Record<string, string>, headers?: Record<string, string>, omitRedirectUri?: boolean } = {}): Promise<AuthorizationResult> {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(h.as.authorization_endpoint as string)
  url.searchParams.set('client_id', client.client_id)
  if (options.omitRedirectUri !== true) url.searchParams.set('redirect_uri', CLIENT_REDIRECT)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', state)
  url.searchParams.set('resource', `${h.url}/mcp`)
  if (options.scope !== undefined) url.searchParams.set('scope', options.scope)
  for (const [k, v] of Object.entries(options.extra ?? {})) url.searchParams.set(k, v)
  const { url: redirect, cookies } = await loginThroughForm(url, options.username ?? 'alice', options.password ?? options.username ?? 'alice', {
    stopAt: CLIENT_REDIRECT,
    headers: options.headers ?? { 'sec-fetch-site': 'none' },
    ...(options.cookies === undefined ? {} : { cookies: options.cookies }),
    onForm: (html, pageUrl) => html.includes('name="decision"') ? formSubmission(html, pageUrl, { button: { name: 'decision', value: options.decision ?? 'allow' } }) : undefined
  })
  return { redirect, verifier, state, cookies }
}

export async function exchangeCode (h: Harness, registered: RegisteredClient, result: AuthorizationResult): Promise<oauth.TokenEndpointResponse> {
  const params = oauth.validateAuthResponse(h.as, registered.client, result.redirect, result.state)
  const response = await oauth.authorizationCodeGrantRequest(h.as, registered.client, registered.auth, params, CLIENT_REDIRECT, result.verifier, { ...h.options, additionalParameters: { resource: `${h.url}/mcp` } })
  return await oauth.processAuthorizationCodeResponse(h.as, registered.client, response)
}

/** A raw form POST to a gatehouse endpoint, for the error paths a strict client library refuses to send. */
export async function postForm (url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) })
  const text = await response.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch { /* not JSON */ }
  return { status: response.status, body, headers: response.headers }
}

/** The confidential client the harness configures as a resource server (INTROSPECTION_CLIENT_IDS). */
export const RESOURCE_SERVER_CLIENT_ID = 'harness-resource-server'

/** Provisions the resource server's client directly in the store, as an operator would (not by open registration). */
export async function registerResourceServer (h: Harness): Promise<RegisteredClient> {
  const secret = oauth.generateRandomState() + oauth.generateRandomState()
  const { sha256 } = await import('../../src/oauth/secrets.ts')
  await h.store.store.saveClient({
    clientId: RESOURCE_SERVER_CLIENT_ID,
    clientSecretHash: sha256(secret),
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: [CLIENT_REDIRECT],
    grantTypes: ['authorization_code'],
    responseTypes: ['code'],
    clientName: 'resource server',
    createdAt: Math.floor(Date.now() / 1000),
    expiresAt: 0
  })
  const client: oauth.Client = { client_id: RESOURCE_SERVER_CLIENT_ID, token_endpoint_auth_method: 'client_secret_basic' }
  return { client, auth: oauth.ClientSecretBasic(secret), secret }
}
