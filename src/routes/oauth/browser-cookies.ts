// Browser cookies: a random binding id (the browser that consents must be the one that returns) and the
// signed list of clients this browser already approved (remembered consent, DESIGN decision 8).
import type { FastifyReply, FastifyRequest } from 'fastify'
import { randomToken, sha256 } from '../../oauth/secrets.ts'

/** `account`: the connected-apps page's session; `accountLogin`: its sign-in in progress. */
interface CookieNames { browser: string, consent: string, account: string, accountLogin: string, secure: boolean }

/** `__Host-` cookies need https; local http runs use plain names. */
export function cookieNames (publicUrl: string): CookieNames {
  const secure = publicUrl.startsWith('https://')
  return secure
    ? { browser: '__Host-gatehouse-browser', consent: '__Host-gatehouse-consent', account: '__Host-gatehouse-account', accountLogin: '__Host-gatehouse-account-login', secure }
    : { browser: 'gatehouse-browser', consent: 'gatehouse-consent', account: 'gatehouse-account', accountLogin: 'gatehouse-account-login', secure }
}

const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/

/** The browser's binding id, created (and set) when absent. */
export function browserId (request: FastifyRequest, reply: FastifyReply, names: CookieNames): string {
  const existing = request.cookies[names.browser]
  if (existing !== undefined && BROWSER_ID.test(existing)) return existing
  const id = randomToken()
  reply.setCookie(names.browser, id, { path: '/', httpOnly: true, secure: names.secure, sameSite: 'lax' })
  return id
}

export function existingBrowserId (request: FastifyRequest, names: CookieNames): string | undefined {
  const value = request.cookies[names.browser]
  return value !== undefined && BROWSER_ID.test(value) ? value : undefined
}

/** A signed, HttpOnly, SameSite=Lax cookie holding JSON (base64url, so any value is a valid cookie value). */
export function writeSignedJson (reply: FastifyReply, name: string, value: unknown, options: { maxAge: number, secure: boolean }): void {
  reply.setCookie(name, Buffer.from(JSON.stringify(value)).toString('base64url'), { path: '/', httpOnly: true, secure: options.secure, sameSite: 'lax', signed: true, maxAge: options.maxAge })
}

/** What writeSignedJson stored, or undefined when the cookie is absent, its signature is wrong or it is not JSON. */
export function readSignedJson (request: FastifyRequest, name: string): unknown {
  const raw = request.cookies[name]
  if (raw === undefined) return undefined
  const unsigned = request.unsignCookie(raw)
  if (!unsigned.valid || unsigned.value === null) return undefined
  try {
    return JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as unknown
  } catch { return undefined }
}

interface RememberedConsent { c: string, s: string, e: number }
const MAX_REMEMBERED = 20

function readConsents (request: FastifyRequest, names: CookieNames, now: number): RememberedConsent[] {
  const parsed = readSignedJson(request, names.consent)
  if (!Array.isArray(parsed)) return []
  return parsed.filter((x): x is RememberedConsent => typeof x?.c === 'string' && typeof x?.s === 'string' && typeof x?.e === 'number' && x.e > now)
}

/** Did this browser already approve this client for (at least) these scopes? */
export function hasRememberedConsent (request: FastifyRequest, names: CookieNames, clientId: string, scope: string[], now: number): boolean {
  const key = sha256(clientId)
  return readConsents(request, names, now).some(x => x.c === key && scope.every(s => x.s.split(' ').includes(s)))
}

export function rememberConsent (request: FastifyRequest, reply: FastifyReply, names: CookieNames, clientId: string, scope: string[], now: number, ttl: number): void {
  if (ttl <= 0) return
  const key = sha256(clientId)
  const kept = readConsents(request, names, now).filter(x => x.c !== key).slice(-(MAX_REMEMBERED - 1))
  kept.push({ c: key, s: scope.join(' '), e: now + ttl })
  writeSignedJson(reply, names.consent, kept, { maxAge: ttl, secure: names.secure })
}
