// The authorization endpoint, the consent decision and the upstream callback (OAuth 2.1 §4.1,
// RFC 9700 §4.1 and §2.1, MCP authorization's confused-deputy rule for proxies with one upstream client).
import { findClient } from './clients.ts'
import { clientRules, protectedResources, type AuthorizationServerContext } from './context.ts'
import { AccessDeniedError, InvalidClientError, InvalidRequestError, OAuthError, ServerError, TemporarilyUnavailableError, UnsupportedResponseTypeError } from './errors.ts'
import { validateCodeChallenge } from './pkce.ts'
import type { AuthorizationTransaction, ClientRecord } from '../ports/records.ts'
import { UpstreamDeniedError, UpstreamUnavailableError } from '../ports/upstream.ts'
import { buildRedirect, findMatchingRedirectUri } from './redirect-uris.ts'
import { resolveResource } from './resource.ts'
import { randomToken, safeEqual, sha256 } from './secrets.ts'
import { resolveRequestedScope } from './scopes.ts'

export interface AuthorizeParams {
  client_id?: string | undefined
  redirect_uri?: string | undefined
  response_type?: string | undefined
  code_challenge?: string | undefined
  code_challenge_method?: string | undefined
  scope?: string | undefined
  state?: string | undefined
  resource?: string | string[] | undefined
  response_mode?: string | undefined
  request?: string | undefined
  request_uri?: string | undefined
}

/** What the route does next. */
export type AuthorizeOutcome =
  | { kind: 'error-page', error: OAuthError }
  | { kind: 'redirect', location: string, error?: OAuthError }
  | { kind: 'consent', client: ClientRecord, transaction: AuthorizationTransaction, csrfToken: string }

export interface BrowserContext {
  /** The random value of the browser's binding cookie (the route creates one when absent). */
  browserId: string
}

const MAX_STATE = 1024

function errorRedirect (ctx: AuthorizationServerContext, redirectUri: string, error: OAuthError, state: string | undefined): AuthorizeOutcome {
  return { kind: 'redirect', error, location: buildRedirect(redirectUri, { error: error.code, error_description: error.description, state, iss: ctx.issuer }) }
}

/**
 * GET /authorize. Never redirects before the client and redirect URI are known good (DESIGN decision 2);
 * after that, errors go back to the client with `state` and `iss`.
 */
export async function startAuthorization (params: AuthorizeParams, browser: BrowserContext, ctx: AuthorizationServerContext): Promise<AuthorizeOutcome> {
  let client: ClientRecord | undefined
  try {
    client = await findClient(params.client_id, clientRules(ctx))
  } catch (error) {
    if (error instanceof OAuthError) return { kind: 'error-page', error }
    throw error
  }
  if (client === undefined) return { kind: 'error-page', error: new InvalidClientError('unknown client_id') }
  const redirectUri = findMatchingRedirectUri(client.redirectUris, params.redirect_uri)
  if (redirectUri === undefined) {
    return { kind: 'error-page', error: new InvalidRequestError(params.redirect_uri === undefined ? 'redirect_uri is required' : 'redirect_uri is not registered for this client') }
  }
  const state = params.state
  if (state !== undefined && state.length > MAX_STATE) return errorRedirect(ctx, redirectUri, new InvalidRequestError('state is too long'), undefined)
  try {
    if (params.request !== undefined || params.request_uri !== undefined) throw new OAuthError('request_not_supported', 400, 'request objects are not supported')
    if (params.response_type === undefined) throw new InvalidRequestError('response_type is required')
    if (params.response_type !== 'code') throw new UnsupportedResponseTypeError()
    if (params.response_mode !== undefined && params.response_mode !== 'query') throw new InvalidRequestError('response_mode must be query')
    const codeChallenge = validateCodeChallenge(params.code_challenge, params.code_challenge_method)
    const scope = resolveRequestedScope(params.scope, { supported: ctx.scopes, defaults: ctx.defaultScopes, clientScope: client.scope })
    const resource = resolveResource(params.resource, protectedResources(ctx), ctx.resource)
    const now = ctx.clock.now()
    const csrfToken = randomToken()
    const transaction: AuthorizationTransaction = {
      id: randomToken(),
      clientId: client.clientId,
      redirectUri,
      codeChallenge,
      scope,
      resource,
      browserBindingHash: sha256(browser.browserId),
      csrfHash: sha256(csrfToken),
      createdAt: now,
      expiresAt: now + ctx.ttl.transaction
    }
    if (state !== undefined) transaction.state = state
    if (params.redirect_uri === undefined) transaction.redirectUriOmitted = true
    await ctx.store.saveTransaction(transaction)
    return { kind: 'consent', client, transaction, csrfToken }
  } catch (error) {
    if (error instanceof OAuthError) return errorRedirect(ctx, redirectUri, error, state)
    throw error
  }
}

export type ConsentOutcome =
  | { kind: 'error-page', error: OAuthError }
  | { kind: 'redirect', location: string, approved: boolean, transaction: AuthorizationTransaction }

/**
 * POST /authorize/consent (and remembered consent). The CSRF token and the browser binding must
 * match the transaction; approval is recorded once (a replayed form finds it already used).
 */
export async function decideConsent (input: { transactionId: string | undefined, csrfToken: string | undefined, approve: boolean, browserId: string | undefined, skipCsrf?: boolean }, ctx: AuthorizationServerContext): Promise<ConsentOutcome> {
  const invalid = (detail: string): ConsentOutcome => ({ kind: 'error-page', error: new InvalidRequestError('this authorization request is no longer valid; start again from your application', detail) })
  if (input.transactionId === undefined || input.transactionId.length > 100) return invalid('no transaction')
  const tx = await ctx.store.findTransaction(input.transactionId)
  if (tx === undefined) return invalid('unknown or expired transaction')
  if (input.browserId === undefined || !safeEqual(sha256(input.browserId), tx.browserBindingHash)) {
    return { kind: 'error-page', error: new AccessDeniedError('this consent was not started in this browser', 'browser binding mismatch') }
  }
  if (input.skipCsrf !== true && (input.csrfToken === undefined || !safeEqual(sha256(input.csrfToken), tx.csrfHash))) {
    return { kind: 'error-page', error: new AccessDeniedError('the consent form is invalid; start again from your application', 'csrf mismatch') }
  }
  if (tx.upstream !== undefined) return invalid('consent already given')
  if (!input.approve) {
    const consumed = await ctx.store.consumeTransaction(tx.id)
    if (consumed === undefined) return invalid('transaction already used')
    ctx.audit.event('consent.denied', { clientId: tx.clientId })
    return { kind: 'redirect', approved: false, transaction: tx, location: buildRedirect(tx.redirectUri, { error: 'access_denied', error_description: 'the user denied the request', state: tx.state, iss: ctx.issuer }) }
  }
  const upstream = { codeVerifier: randomToken(48), nonce: randomToken() }
  const result = await ctx.store.markTransactionApproved(tx.id, upstream)
  if (!result.won) return invalid('consent already given')
  ctx.audit.event('consent.granted', { clientId: tx.clientId, scope: tx.scope.join(' ') })
  let location: URL
  try {
    location = await ctx.upstream.authorizationUrl({ state: tx.id, codeVerifier: upstream.codeVerifier, nonce: upstream.nonce })
  } catch (error) {
    await ctx.store.consumeTransaction(tx.id).catch(() => undefined)
    const oauthError = error instanceof UpstreamUnavailableError ? new TemporarilyUnavailableError('the identity provider is unavailable, try again shortly', error.message) : new ServerError('the identity provider could not be reached', String(error))
    return { kind: 'redirect', approved: true, transaction: tx, location: buildRedirect(tx.redirectUri, { error: oauthError.code, error_description: oauthError.description, state: tx.state, iss: ctx.issuer }) }
  }
  return { kind: 'redirect', approved: true, transaction: tx, location: location.href }
}

export type CallbackOutcome =
  | { kind: 'error-page', error: OAuthError }
  | { kind: 'redirect', location: string, clientId: string, sub?: string }

/**
 * GET /callback: the upstream IdP returns. The transaction is consumed (single use), the returning
 * browser must be the one that consented, the upstream code is exchanged with PKCE, and a gatehouse
 * code is issued to the client.
 */
export async function completeAuthorization (input: { callbackUrl: URL, browserId: string | undefined }, ctx: AuthorizationServerContext): Promise<CallbackOutcome> {
  const state = input.callbackUrl.searchParams.get('state')
  if (state === null || state === '' || state.length > 100) return { kind: 'error-page', error: new InvalidRequestError('the sign-in response is missing its state; start again from your application') }
  const tx = await ctx.store.consumeTransaction(state)
  if (tx === undefined || tx.upstream === undefined) {
    return { kind: 'error-page', error: new InvalidRequestError('this sign-in response is unknown, expired or was already used; start again from your application') }
  }
  if (input.browserId === undefined || !safeEqual(sha256(input.browserId), tx.browserBindingHash)) {
    return { kind: 'error-page', error: new AccessDeniedError('this sign-in finished in a different browser than it started in', 'browser binding mismatch') }
  }
  const back = (error: OAuthError): CallbackOutcome => ({ kind: 'redirect', clientId: tx.clientId, location: buildRedirect(tx.redirectUri, { error: error.code, error_description: error.description, state: tx.state, iss: ctx.issuer }) })
  let login
  try {
    login = await ctx.upstream.completeLogin({ callbackUrl: input.callbackUrl, state: tx.id, codeVerifier: tx.upstream.codeVerifier, nonce: tx.upstream.nonce })
  } catch (error) {
    ctx.audit.event('login.failed', { clientId: tx.clientId, reason: error instanceof Error ? error.name : 'unknown' })
    if (error instanceof UpstreamDeniedError) return back(new AccessDeniedError('the sign-in was cancelled or refused', error.message))
    if (error instanceof UpstreamUnavailableError) return back(new TemporarilyUnavailableError('the identity provider is unavailable, try again shortly', error.message))
    return back(new ServerError('the sign-in could not be completed', String(error)))
  }
  const now = ctx.clock.now()
  const code = randomToken()
  const codeHash = sha256(code)
  const grantId = randomToken(18)
  const upstreamSealed = await ctx.cipher.seal(JSON.stringify(login.tokens), `grant:${grantId}`)
  const record = {
    codeHash,
    clientId: tx.clientId,
    redirectUri: tx.redirectUri,
    codeChallenge: tx.codeChallenge,
    scope: tx.scope,
    resource: tx.resource,
    identity: login.identity,
    upstreamSealed,
    grantId,
    createdAt: now,
    expiresAt: now + ctx.ttl.code,
    ...(tx.redirectUriOmitted === true ? { redirectUriOmitted: true } : {}),
    ...(login.tokens.expiresAt !== undefined ? { upstreamExpiresAt: login.tokens.expiresAt } : {})
  }
  await ctx.store.saveCode(record)
  if (ctx.ttl.consent > 0) {
    await ctx.store.saveConsent({ sub: login.identity.sub, clientId: tx.clientId, scope: tx.scope, createdAt: now, expiresAt: now + ctx.ttl.consent })
  }
  ctx.audit.event('login.succeeded', { clientId: tx.clientId, sub: login.identity.sub, grantId })
  return { kind: 'redirect', clientId: tx.clientId, sub: login.identity.sub, location: buildRedirect(tx.redirectUri, { code, state: tx.state, iss: ctx.issuer }) }
}
