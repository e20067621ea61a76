// call_downstream: calls the configured downstream API on the user's behalf with the user's UPSTREAM access
// token, opened from the grant. The MCP token is never forwarded (no token passthrough), the request cannot
// leave the configured origin (fixed base URL, no redirects), and the answer is size- and time-bounded.
import * as Type from 'typebox'
import type { UpstreamTokens } from '../../ports/upstream.ts'
import { isGrantActive } from '../../oauth/grants/issue.ts'
import { defineTool, jsonResult, toolError } from './types.ts'

const MAX_BODY_BYTES = 64 * 1024

async function readBounded (response: Response): Promise<string | undefined> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) { await reader.cancel(); return undefined }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export default defineTool({
  name: 'call_downstream',
  title: 'Call downstream API',
  description: 'Calls the enterprise API configured for this server (GET) as the signed-in user and returns its answer.',
  inputSchema: Type.Object({
    // No `//`: a path starting with two slashes would be read as another host (network-path reference).
    path: Type.Optional(Type.String({ pattern: '^/(?!/)[A-Za-z0-9/_-]{0,200}$', default: '/', description: 'path under the API base URL, e.g. /profile' }))
  }, { additionalProperties: false }),
  scope: 'mcp:read',
  groups: [],
  annotations: { readOnlyHint: true, openWorldHint: true },
  available: deps => deps.downstreamUrl !== undefined,
  handler: async (input, { caller, deps, signal }) => {
    if (deps.downstreamUrl === undefined) return toolError('no downstream API is configured')
    if (caller.grantId === undefined) return toolError('on-behalf-of calls need a gatehouse-issued token')
    const grant = await deps.grants.findGrant(caller.grantId)
    if (!isGrantActive(grant, deps.clock.now())) return toolError('the grant is no longer valid')
    if (grant.upstreamSealed === undefined) return toolError('this grant holds no upstream session')
    const tokens = JSON.parse(await deps.cipher.open(grant.upstreamSealed, `grant:${grant.grantId}`)) as UpstreamTokens
    if (tokens.expiresAt !== undefined && tokens.expiresAt <= deps.clock.now()) {
      return toolError('the upstream session has expired; refresh the MCP token and try again')
    }
    const base = new URL(deps.downstreamUrl)
    const basePath = base.pathname.replace(/\/$/, '')
    const url = new URL(basePath + (input.path ?? '/'), base.origin)
    // The user's upstream token goes to the configured API only: same origin, under its base path.
    if (url.origin !== base.origin || !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) {
      return toolError('the path must stay under the downstream API')
    }
    let response: Response
    try {
      response = await deps.fetch(url, {
        headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.any([signal, AbortSignal.timeout(deps.downstreamTimeoutMs)])
      })
    } catch {
      return toolError('the downstream API is unreachable')
    }
    const text = await readBounded(response)
    if (text === undefined) return toolError(`the downstream answer exceeds ${MAX_BODY_BYTES} bytes`)
    let body: unknown = text
    if (response.headers.get('content-type')?.includes('json') === true) {
      try { body = JSON.parse(text) } catch { /* keep the text */ }
    }
    if (!response.ok) return { ...jsonResult({ status: response.status, body }), isError: true }
    return jsonResult({ status: response.status, body })
  }
})
