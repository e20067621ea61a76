// Signed cookies for the browser routes, with a secret read on first use (COOKIE_SECRET_ARN): a cold start
// that serves /mcp never loads the Secrets Manager client. Registered inside each browser route plugin (not
// app-wide), so neither the cookie hooks nor the secret's wait run on /mcp.
import cookie, { Signer, type UnsignResult } from '@fastify/cookie'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { TemporarilyUnavailableError } from '../oauth/errors.ts'

/**
 * @fastify/cookie's signer over a secret that may still have to be read. `ready()` reads it once (concurrent
 * callers share the read; a failure is not kept, so the next request reads again); `sign`/`unsign` are
 * synchronous, as the cookie plugin calls them, and refuse to run before the secret is there.
 */
type SignerBase = Pick<Signer, 'sign' | 'unsign'>

export class CookieSecret implements SignerBase {
  #signer: SignerBase | undefined
  #reading: Promise<void> | undefined
  readonly #read: () => Promise<string>

  constructor (secret: string | (() => Promise<string>)) {
    if (typeof secret === 'string') this.#signer = signerOf(secret)
    this.#read = typeof secret === 'string' ? async () => secret : secret
  }

  get loaded (): boolean { return this.#signer !== undefined }

  async ready (): Promise<void> {
    if (this.#signer !== undefined) return
    this.#reading ??= this.#read().then(secret => { this.#signer = signerOf(secret) }).finally(() => { this.#reading = undefined })
    await this.#reading
  }

  sign = (value: string): string => this.#loaded().sign(value)
  unsign = (input: string): UnsignResult => this.#loaded().unsign(input)

  #loaded (): SignerBase {
    if (this.#signer === undefined) throw new Error('the cookie secret has not been read yet (register the browser-cookies plugin)')
    return this.#signer
  }
}

function signerOf (secret: string): SignerBase {
  if (secret.length < 32) throw new Error('the cookie secret must be at least 32 characters')
  return new Signer(secret, 'sha256')
}

/** @fastify/cookie with gatehouse's secret, for the routes of the plugin that registers it. */
export default fp(async function browserCookies (app: FastifyInstance) {
  const secret = app.gatehouse.cookieSecret
  await app.register(cookie, { secret })
  if (secret.loaded) return
  app.addHook('onRequest', async (request) => {
    if (secret.loaded) return
    try {
      await secret.ready()
    } catch (error) {
      // A wrong COOKIE_SECRET_ARN or a missing permission: 503 to the browser, the cause in an error line.
      request.log.error({ err: error }, 'cookie secret could not be read')
      throw new TemporarilyUnavailableError(undefined, `cookie secret: ${(error as Error).message}`)
    }
  })
}, { name: 'gatehouse-browser-cookies', fastify: '5.x', decorators: { fastify: ['gatehouse'] } })
