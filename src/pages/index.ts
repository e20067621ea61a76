// The few HTML pages gatehouse shows a person: consent and errors. Everything interpolated is escaped.
import type { OAuthError } from '../oauth/errors.ts'

export function escapeHtml (value: string): string {
  return value.replace(/[&<>"'`=]/g, c => `&#${c.charCodeAt(0)};`)
}

/** Sent with every page: no framing (clickjacking), no third-party scripts. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src https:; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store'
} as const

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}
main{max-width:28rem;margin:8vh auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}ul{padding-left:1.2rem}code{background:#eef;padding:0 .25rem;border-radius:4px}
.logo{max-width:48px;max-height:48px;float:right}.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{flex:1;padding:.7rem;border-radius:8px;border:1px solid #999;font-size:1rem;cursor:pointer;background:#fff}
button.allow{background:#1a56db;color:#fff;border-color:#1a56db}.muted{color:#5b6475;font-size:.9rem}
.warning{background:#fff4e5;border:1px solid #f0a020;border-radius:8px;padding:.6rem .8rem}`

export function layout (title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · gatehouse</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
}

export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'mcp:read': 'Read data through this server\'s tools',
  'mcp:write': 'Change data through this server\'s tools'
}

export interface ConsentPageInput {
  clientName: string | undefined
  clientId: string
  redirectHost: string
  logoUri: string | undefined
  scope: string[]
  /** Every redirect URI of the client is on a loopback host: anything running on this machine could claim to be it. */
  localhostOnly?: boolean
  /** The protected resource the token will be for (RFC 8707), and what to call it. */
  resource: { url: string, title: string }
  transactionId: string
  csrfToken: string
  action: string
}

export function consentPage (input: ConsentPageInput): string {
  const name = input.clientName ?? 'An unnamed application'
  const logo = input.logoUri?.startsWith('https://') === true ? `<img class="logo" alt="" src="${escapeHtml(input.logoUri)}">` : ''
  const scopes = input.scope.map(s => `<li><code>${escapeHtml(s)}</code> ${escapeHtml(SCOPE_DESCRIPTIONS[s] ?? '')}</li>`).join('')
  return layout('Allow access?', `${logo}<h1>Allow <strong>${escapeHtml(name)}</strong> to use your MCP tools?</h1>
<p class="muted">It will receive access on your behalf after you sign in, and will return you to <strong>${escapeHtml(input.redirectHost)}</strong>.</p>
${input.localhostOnly === true ? '<p class="warning" role="alert"><strong>Warning:</strong> this application only returns to your own computer (localhost). Any program running here could use that name, so nothing proves it is the application it says it is. Allow only if you started it yourself just now.</p>\n' : ''}<p>Access to <strong>${escapeHtml(input.resource.title)}</strong> (<code>${escapeHtml(input.resource.url)}</code>) only. It asks for:</p><ul>${scopes}</ul>
<p class="muted">Client ID: <code>${escapeHtml(input.clientId.length > 80 ? input.clientId.slice(0, 80) + '…' : input.clientId)}</code>. Only allow applications you started yourself.</p>
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="transaction" value="${escapeHtml(input.transactionId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<div class="actions"><button type="submit" name="decision" value="deny">Deny</button>
<button class="allow" type="submit" name="decision" value="allow">Allow</button></div></form>
<p class="muted"><a href="/account" target="_blank" rel="noopener noreferrer">Manage connected apps</a>: see and revoke what you allowed before.</p>`)
}

export function errorPage (error: OAuthError): string {
  return layout('Something went wrong', `<h1>This request cannot continue</h1>
<p>${escapeHtml(error.description)}</p><p class="muted">Error: <code>${escapeHtml(error.code)}</code></p>
<p class="muted">You can close this window and try again from your application.</p>`)
}
