// GET /authorize, POST /authorize/consent, GET /callback: the browser-facing part of the flow.
import type { FastifyPluginAsync } from 'fastify'
import browserCookies from '../../plugins/cookies.ts'
import * as Type from 'typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { completeAuthorization, decideConsent, startAuthorization } from '../../oauth/authorize.ts'
import { browserId, cookieNames, existingBrowserId, hasRememberedConsent, rememberConsent } from './browser-cookies.ts'
import { consentPage, PAGE_HEADERS } from '../../pages/index.ts'
import { logRefusal } from '../../plugins/errors.ts'
import { InvalidRequestError } from '../../oauth/errors.ts'
import { isAccountLoginState } from '../../oauth/account-login.ts'
import { finishAccountSignIn } from '../account.ts'
import { isLoopbackHost } from '../../loopback.ts'
import { html, redirect } from '../browser.ts'

const Param = Type.String({ maxLength: 4096 })

const AuthorizeQuery = Type.Object({
  client_id: Type.Optional(Param),
  redirect_uri: Type.Optional(Param),
  response_type: Type.Optional(Param),
  code_challenge: Type.Optional(Param),
  code_challenge_method: Type.Optional(Param),
  scope: Type.Optional(Param),
  state: Type.Optional(Param),
  resource: Type.Optional(Type.Union([Param, Type.Array(Param, { maxItems: 5 })])),
  response_mode: Type.Optional(Param),
  prompt: Type.Optional(Param),
  request: Type.Optional(Param),
  request_uri: Type.Optional(Param)
})

const ConsentBody = Type.Object({
  transaction: Type.Optional(Type.String({ maxLength: 200 })),
  csrf_token: Type.Optional(Type.String({ maxLength: 200 })),
  decision: Type.Optional(Type.String({ maxLength: 20 }))
})

const CallbackQuery = Type.Object({
  state: Type.Optional(Param),
  code: Type.Optional(Param),
  error: Type.Optional(Param),
  error_description: Type.Optional(Param),
  iss: Type.Optional(Param)
}, { additionalProperties: true })

const authorizeRoutes: FastifyPluginAsync = async (fastify) => {
  // Only these routes read or set cookies: registered here, the cookie hooks do not run on /mcp (hot path).
  // Signed cookies need the secret: by ARN, read on the first browser request (src/plugins/cookies.ts).
  await fastify.register(browserCookies)
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { ctx, config } = app.gatehouse
  const names = cookieNames(config.publicUrl)
  // What the consent page calls each protected resource; remembered consent is per client and resource.
  const titles = new Map([[config.resourceUrl, 'gatehouse MCP tools'], ...config.backends.map(b => [b.resource, b.title] as const)])
  const consentKey = (clientId: string, resource: string): string => resource === config.resourceUrl ? clientId : `${clientId} ${resource}`

  app.get('/authorize', { schema: { querystring: AuthorizeQuery }, ...html(120) }, async (request, reply) => {
    const id = browserId(request, reply, names)
    const outcome = await startAuthorization(request.query, { browserId: id }, ctx)
    if (outcome.kind === 'error-page') throw outcome.error
    if (outcome.kind === 'redirect') {
      // An error sent back to the client is a refusal too: logged like the ones answered here.
      if (outcome.error !== undefined) logRefusal(request, outcome.error)
      return redirect(reply, outcome.location)
    }
    const { client, transaction, csrfToken } = outcome
    // Remembered consent only for direct or same-origin navigations; a cross-site navigation always asks.
    const site = request.headers['sec-fetch-site']
    const direct = site === 'none' || site === 'same-origin'
    if (direct && request.query.prompt !== 'consent' && hasRememberedConsent(request, names, consentKey(client.clientId, transaction.resource), transaction.scope, ctx.clock.now())) {
      const decided = await decideConsent({ transactionId: transaction.id, csrfToken, approve: true, browserId: id }, ctx)
      if (decided.kind === 'error-page') throw decided.error
      return redirect(reply, decided.location)
    }
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(consentPage({
      clientName: client.clientName,
      clientId: client.clientId,
      redirectHost: new URL(transaction.redirectUri).host || transaction.redirectUri.split(':')[0] as string,
      logoUri: client.logoUri,
      scope: transaction.scope,
      // MCP 2026-07-28 security considerations, "Localhost Redirect URI Risks": warn when that is all there is.
      localhostOnly: client.redirectUris.every(uri => isLoopbackHost(URL.parse(uri)?.hostname ?? '')),
      resource: { url: transaction.resource, title: titles.get(transaction.resource) ?? transaction.resource },
      transactionId: transaction.id,
      csrfToken,
      action: `${config.publicUrl}/authorize/consent`
    }))
  })

  app.post('/authorize/consent', { schema: { body: ConsentBody }, ...html(60) }, async (request, reply) => {
    const { transaction, csrf_token: csrfToken, decision } = request.body
    if (decision !== 'allow' && decision !== 'deny') throw new InvalidRequestError('decision must be allow or deny')
    const outcome = await decideConsent({ transactionId: transaction, csrfToken, approve: decision === 'allow', browserId: existingBrowserId(request, names) }, ctx)
    if (outcome.kind === 'error-page') throw outcome.error
    if (outcome.approved) rememberConsent(request, reply, names, consentKey(outcome.transaction.clientId, outcome.transaction.resource), outcome.transaction.scope, ctx.clock.now(), config.ttl.consent)
    return redirect(reply, outcome.location)
  })

  app.get('/callback', { schema: { querystring: CallbackQuery }, ...html(60) }, async (request, reply) => {
    // A sign-in to the connected-apps page comes back here too (the one redirect URI registered upstream).
    if (isAccountLoginState(request.query.state)) return await finishAccountSignIn(request, reply, app.gatehouse)
    const callbackUrl = new URL(request.url, config.publicUrl)
    const outcome = await completeAuthorization({ callbackUrl, browserId: existingBrowserId(request, names) }, ctx)
    if (outcome.kind === 'error-page') throw outcome.error
    return redirect(reply, outcome.location)
  })
}

export default authorizeRoutes
