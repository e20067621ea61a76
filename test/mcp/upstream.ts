// Real upstream tokens from the development IdP (a child process), by a browserless code + PKCE login.
import { createHash, randomBytes } from 'node:crypto'
import { loginThroughForm } from '../support/browserless-login.ts'
import type { DevIdpProcess } from '../support/dev-idp.ts'
import type { UpstreamTokens } from '../../src/ports/upstream.ts'

export const UPSTREAM_REDIRECT_URI = 'http://127.0.0.1:9/callback'

export async function upstreamLogin (idp: DevIdpProcess, username: string, password = username): Promise<UpstreamTokens> {
  const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as { authorization_endpoint: string, token_endpoint: string }
  const verifier = randomBytes(32).toString('base64url')
  const url = new URL(discovery.authorization_endpoint)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: idp.clientId,
    redirect_uri: UPSTREAM_REDIRECT_URI,
    scope: 'openid email profile',
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256'
  }).toString()
  const { url: callback } = await loginThroughForm(url, username, password, { stopAt: UPSTREAM_REDIRECT_URI })
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: UPSTREAM_REDIRECT_URI, code_verifier: verifier })
  })
  const tokens = await response.json() as { access_token: string, refresh_token?: string, id_token?: string, expires_in: number }
  if (response.status !== 200) throw new Error(`upstream token exchange failed: ${JSON.stringify(tokens)}`)
  return {
    accessToken: tokens.access_token,
    ...(tokens.refresh_token === undefined ? {} : { refreshToken: tokens.refresh_token }),
    ...(tokens.id_token === undefined ? {} : { idToken: tokens.id_token }),
    expiresAt: Math.floor(Date.now() / 1000) + tokens.expires_in
  }
}
