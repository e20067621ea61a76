// GET /account (the connected-apps page) and POST /account/revoke. Signing in goes through the upstream
// IdP and comes back to /callback (the one redirect URI registered there), which hands a page sign-in
// (its state starts with ACCOUNT_STATE_PREFIX) to finishAccountSignIn. The page's session is a signed,
// HttpOnly, SameSite=Lax cookie of its own (`__Host-` over https), 15 minutes long.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import browserCookies from '../plugins/cookies.ts'
import * as Type from 'typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Gatehouse } from '../compose.ts'
import {
  ACCOUNT_LOGIN_TTL, ACCOUNT_SESSION_TTL, checkAccountCsrf, finishAccountLogin, startAccountLogin, type AccountSession, type PendingAccountLogin
} from '../oauth/account-login.ts'
import { listConnectedApps, revokeConnectedApp } from '../oauth/connected-apps.ts'
import { AccessDeniedError } from '../oauth/errors.ts'
import { accountPage } from '../pages/account.ts'
import { PAGE_HEADERS } from '../pages/index.ts'
import { cookieNames, readSignedJson, writeSignedJson } from './oauth/browser-cookies.ts'
import { html, redirect } from './browser.ts'

const RevokeBody = Type.Object({
  grant_id: Type.String({ minLength: 1, maxLength: 100 }),
  csrf_token: Type.Optional(Type.String({ maxLength: 200 }))
})

const AccountQuery = Type.Object({ revoked: Type.Optional(Type.String({ maxLength: 5 })) })

function writeCookie (reply: FastifyReply, name: string, value: object, maxAge: number, secure: boolean): void {
  writeSignedJson(reply, name, value, { maxAge, secure })
}

function readCookie<T extends { expiresAt: number }> (request: FastifyRequest, name: string, now: number): T | undefined {
  const value = readSignedJson(request, name) as T | undefined
  return typeof value?.expiresAt === 'number' && value.expiresAt > now ? value : undefined
}

/** /callback, for a page sign-in: the session starts and the browser goes back to the page. */
export async function finishAccountSignIn (request: FastifyRequest, reply: FastifyReply, gatehouse: Pick<Gatehouse, 'ctx' | 'config'>): Promise<FastifyReply> {
  const { ctx, config } = gatehouse
  const names = cookieNames(config.publicUrl)
  const pending = readCookie<PendingAccountLogin>(request, names.accountLogin, ctx.clock.now())
  reply.clearCookie(names.accountLogin, { path: '/', secure: names.secure })
  const session = await finishAccountLogin(new URL(request.url, config.publicUrl), pending, ctx)
  writeCookie(reply, names.account, session, ACCOUNT_SESSION_TTL, names.secure)
  return redirect(reply, `${config.publicUrl}/account`)
}

const accountRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(browserCookies)
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { ctx, config } = app.gatehouse
  const names = cookieNames(config.publicUrl)

  app.get('/account', { schema: { querystring: AccountQuery }, ...html(60) }, async (request, reply) => {
    const session = readCookie<AccountSession>(request, names.account, ctx.clock.now())
    if (session === undefined) {
      const { location, pending } = await startAccountLogin(ctx)
      writeCookie(reply, names.accountLogin, pending, ACCOUNT_LOGIN_TTL, names.secure)
      return redirect(reply, location.href)
    }
    const apps = await listConnectedApps(session.sub, ctx)
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(accountPage({
      signedInAs: session.name ?? session.sub,
      apps,
      csrfToken: session.csrfToken,
      revokeAction: `${config.publicUrl}/account/revoke`,
      notice: request.query.revoked === '1' ? `Access revoked. The application's tokens stop working within ${config.ttl.grantCache} seconds.` : undefined
    }))
  })

  app.post('/account/revoke', { schema: { body: RevokeBody }, ...html(30) }, async (request, reply) => {
    const session = readCookie<AccountSession>(request, names.account, ctx.clock.now())
    if (session === undefined) throw new AccessDeniedError('your session on this page has ended; open the connected apps page again', 'no account session')
    checkAccountCsrf(session, request.body.csrf_token)
    await revokeConnectedApp(session.sub, request.body.grant_id, ctx)
    return redirect(reply, `${config.publicUrl}/account?revoked=1`)
  })
}

export default accountRoutes
