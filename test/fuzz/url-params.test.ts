// Structured fuzzing of the URL-valued parameters (outside review, defect 1: a registered loopback
// redirect URI presented with port 99999 answered 500). Each generated URL goes where the server parses
// URLs: redirect_uri and resource at /authorize for a registered client, redirect_uris, client_uri,
// logo_uri and jwks_uri at /register, and client_id as a metadata document URL. The property: a 4xx in
// the route's standard format or a success, never a 5xx, and a redirect only to a registered URI.
import t from 'tap'
import fc from 'fast-check'
import { buildTestApp } from '../support/app.ts'
import { urlArbitrary } from './endpoint-fuzz.ts'

const REDIRECT = 'http://127.0.0.1:53682/cb'
const seed = process.env.FUZZ_SEED === undefined ? 20261207 : Number(process.env.FUZZ_SEED)
const numRuns = process.env.FUZZ_RUNS === undefined ? 400 : Number(process.env.FUZZ_RUNS)

t.test(`URL-valued parameters, ${numRuns} structured URLs each (seed ${seed}): never 5xx, redirects only to registered URIs`, async t => {
  const { app, config } = await buildTestApp(t)
  const registered = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' } })
  const clientId: string = registered.json().client_id
  const base = { client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's', resource: `${config.publicUrl}/mcp` }
  const urls = urlArbitrary(config.publicUrl)
  const failures: string[] = []
  await fc.assert(fc.asyncProperty(urls, fc.constantFrom('redirect_uri', 'resource', 'client_id', 'register'), async (url, where) => {
    let status: number
    let location: string | undefined
    let type: string | undefined
    if (where === 'register') {
      const res = await app.inject({ method: 'POST', url: '/register', remoteAddress: `10.9.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`, payload: { redirect_uris: [url], client_uri: url, logo_uri: url, jwks_uri: url, token_endpoint_auth_method: 'none' } })
      status = res.statusCode
      type = res.headers['content-type']
      if (status >= 400 && (res.json() as { error?: unknown }).error === undefined) failures.push(`/register ${url}: ${status} without an OAuth error`)
    } else {
      const query = new URLSearchParams({ ...base, [where]: url })
      const res = await app.inject({ method: 'GET', url: `/authorize?${query.toString()}`, remoteAddress: `10.8.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}` })
      status = res.statusCode
      location = res.headers.location
      type = res.headers['content-type']
      if (status >= 400 && !String(type).startsWith('text/html')) failures.push(`/authorize ${where}=${url}: ${status} is not the HTML error page`)
      if (location !== undefined && !location.startsWith(`${REDIRECT}?`)) failures.push(`/authorize ${where}=${url}: redirected to ${location}`)
    }
    if (status >= 500) failures.push(`${where}=${url}: ${status}`)
    return status < 500
  }), { numRuns, seed })
  t.same(failures, [], 'every URL answered in the standard way')
})
