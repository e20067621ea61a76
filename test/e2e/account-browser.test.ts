// The connected-apps page the way a person uses it, in headless Chromium, against a running gatehouse and
// the real development IdP process: signing in through the IdP, seeing two clients' grants, revoking one
// (its access token fails at /mcp within GRANT_CACHE_TTL and its refresh token at /token, while the other
// client keeps working), the session cookie's attributes, CSRF and framing refused, the consent page's link.
import t from 'tap'
import { createServer, type Server } from 'node:http'
import * as oauth from 'oauth4webapi'
import type { Page } from 'playwright-core'
import type { AddressInfo } from 'node:net'
import { launchBrowser } from '../support/browser.ts'
import { authorize, exchangeCode, postForm, registerClient, startHarness } from '../support/oauth-harness.ts'

const h = await startHarness(t, { env: { GRANT_CACHE_TTL: '1' } })
const browser = await launchBrowser(t)

const desktop = await registerClient(h, { client_name: 'Desktop Assistant' })
const editor = await registerClient(h, { client_name: 'Code Editor' })
const desktopTokens = await exchangeCode(h, desktop, await authorize(h, desktop.client))
const editorTokens = await exchangeCode(h, editor, await authorize(h, editor.client))
// bob's grant must never show on alice's page.
const bobTokens = await exchangeCode(h, editor, await authorize(h, editor.client, { username: 'bob' }))

const elsewhereServer: Server = createServer((req, res) => {
  const target = new URL(req.url ?? '/', elsewhere).searchParams.get('to') ?? ''
  res.setHeader('content-type', 'text/html; charset=utf-8')
  res.end(`<!doctype html><title>framer</title><iframe id="f" src="${target.replace(/"/g, '&quot;')}" width="600" height="600"></iframe>`)
})
// Port 0: a port picked first and listened on later can be taken in between by a test running beside this one.
await new Promise<void>(resolve => elsewhereServer.listen(0, '127.0.0.1', resolve))
const elsewhere = `http://localhost:${(elsewhereServer.address() as AddressInfo).port}`
t.teardown(() => new Promise<void>(resolve => { elsewhereServer.closeAllConnections(); elsewhereServer.close(() => resolve()) }))

async function mcpStatus (accessToken: string): Promise<number> {
  const response = await fetch(`${h.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'account-test', version: '1' } } })
  })
  await response.body?.cancel()
  return response.status
}

async function refresh (registered: Awaited<ReturnType<typeof registerClient>>, refreshToken: string): Promise<{ status: number, body: any }> {
  return await postForm(h.as.token_endpoint as string, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: registered.client.client_id })
}

async function signIn (page: Page, username = 'alice'): Promise<void> {
  await page.goto(`${h.url}/account`)
  await page.waitForSelector('input[name="username"]')
  t.ok(page.url().startsWith(h.idp.issuer), 'sent to the IdP to sign in')
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', username)
  await page.click('button[type="submit"]')
  await page.waitForURL(`${h.url}/account`)
}

const context = await browser.newContext()
const page = await context.newPage()
page.setDefaultTimeout(10_000)

t.test('signing in through the IdP shows every grant of this user, with client, redirect host, resource, scopes and times', async t => {
  await signIn(page)
  const apps = page.locator('li.app')
  t.equal(await apps.count(), 2, "alice's two grants, not bob's")
  const text = await page.locator('main').innerText()
  for (const expected of ['Desktop Assistant', 'Code Editor', desktop.client.client_id, editor.client.client_id, '127.0.0.1:53682', `${h.url}/mcp`, 'mcp:read', 'mcp:write', 'Connected', 'Last used', 'Expires', 'alice']) {
    t.match(text, expected, expected)
  }
  const cookies = await context.cookies(h.url)
  const session = cookies.find(c => c.name === 'gatehouse-account')
  t.ok(session, 'a session cookie of its own')
  t.equal(session?.httpOnly, true, 'HttpOnly')
  t.equal(session?.sameSite, 'Lax', 'SameSite=Lax')
  t.ok((session?.expires ?? 0) - Date.now() / 1000 <= 900 + 5, 'short: at most 15 minutes')
  t.notOk(cookies.some(c => c.name === 'gatehouse-account-login'), 'the sign-in cookie is gone once used')
})

t.test('the page has the consent page\'s headers: CSP, no framing, no-store', async t => {
  const response = await page.goto(`${h.url}/account`)
  const headers = response?.headers() ?? {}
  t.match(headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(headers['x-frame-options'], 'DENY')
  t.equal(headers['cache-control'], 'no-store')
  const framing = await context.newPage()
  await framing.goto(`${elsewhere}/?to=${encodeURIComponent(`${h.url}/account`)}`)
  await framing.waitForTimeout(500)
  const frame = framing.frames().find(f => f !== framing.mainFrame())
  t.ok(frame, 'the iframe exists')
  t.equal(await frame?.locator('li.app').count(), 0, 'framed by another site: nothing rendered')
  await framing.close()
})

t.test('a revoke without the CSRF token, with a wrong one, or without the session is refused', async t => {
  const cookie = (await context.cookies(h.url)).map(c => `${c.name}=${c.value}`).join('; ')
  const grantId = await page.locator('li.app').first().getAttribute('data-grant') as string
  const missing = await postForm(`${h.url}/account/revoke`, { grant_id: grantId }, { cookie })
  t.equal(missing.status, 403)
  t.match(missing.body, 'the form is invalid or expired')
  t.equal(missing.headers.get('x-frame-options'), 'DENY', 'error pages carry the page headers too')
  const wrong = await postForm(`${h.url}/account/revoke`, { grant_id: grantId, csrf_token: 'A'.repeat(43) }, { cookie })
  t.equal(wrong.status, 403)
  const csrf = await page.locator('input[name="csrf_token"]').first().inputValue()
  const noSession = await postForm(`${h.url}/account/revoke`, { grant_id: grantId, csrf_token: csrf })
  t.equal(noSession.status, 403)
  t.match(noSession.body, 'your session on this page has ended')
  t.equal(await mcpStatus(desktopTokens.access_token), 200, 'nothing was revoked')
  t.equal(await mcpStatus(editorTokens.access_token), 200)
})

t.test("alice cannot revoke bob's grant through her own session", async t => {
  const cookie = (await context.cookies(h.url)).map(c => `${c.name}=${c.value}`).join('; ')
  const csrf = await page.locator('input[name="csrf_token"]').first().inputValue()
  const introspected = JSON.parse(Buffer.from(bobTokens.access_token.split('.')[1] as string, 'base64url').toString()) as { gid: string }
  const response = await postForm(`${h.url}/account/revoke`, { grant_id: introspected.gid, csrf_token: csrf }, { cookie })
  t.equal(response.status, 403)
  t.equal(await mcpStatus(bobTokens.access_token), 200, "bob's grant still works")
})

t.test('revoking one app: its tokens fail at /mcp (within GRANT_CACHE_TTL) and /token; the other app keeps working', async t => {
  const item = page.locator('li.app', { hasText: 'Desktop Assistant' })
  await Promise.all([page.waitForURL(`${h.url}/account?revoked=1`), item.locator('button[type="submit"]').click()])
  t.match(await page.locator('[role="status"]').innerText(), 'Access revoked')
  t.equal(await page.locator('li.app').count(), 1)
  t.match(await page.locator('li.app').innerText(), 'Code Editor')

  await new Promise(resolve => setTimeout(resolve, 1200))
  t.equal(await mcpStatus(desktopTokens.access_token), 401, 'the revoked access token is refused at /mcp')
  const refused = await refresh(desktop, desktopTokens.refresh_token as string)
  t.equal(refused.status, 400)
  t.equal(refused.body.error, 'invalid_grant', 'its refresh token family is dead')

  t.equal(await mcpStatus(editorTokens.access_token), 200, 'the other app still works')
  const refreshed = await refresh(editor, editorTokens.refresh_token as string)
  t.equal(refreshed.status, 200)
  t.equal(await mcpStatus(refreshed.body.access_token), 200)
  // The refresh shows as the grant's last use on the page.
  await page.goto(`${h.url}/account`)
  t.match(await page.locator('li.app').innerText(), 'Last used')
})

t.test('the consent page links the connected apps page', async t => {
  const verifier = oauth.generateRandomCodeVerifier()
  const url = new URL(`${h.url}/authorize`)
  url.search = new URLSearchParams({ client_id: editor.client.client_id, redirect_uri: 'http://127.0.0.1:53682/cb', response_type: 'code', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', scope: 'mcp:read', prompt: 'consent' }).toString()
  const fresh = await browser.newContext()
  const consent = await fresh.newPage()
  await consent.goto(url.href)
  const link = consent.locator('a', { hasText: 'Manage connected apps' })
  t.equal(await link.getAttribute('href'), '/account')
  await fresh.close()
})

t.test('a callback for a page sign-in that this browser did not start is refused', async t => {
  const response = await fetch(`${h.url}/callback?state=account.forged&code=x`)
  t.equal(response.status, 400)
  t.match(await response.text(), 'open the connected apps page again')
})
