// The connected-apps page: every grant the signed-in user holds, each with a revoke form.
import type { ConnectedApp } from '../oauth/connected-apps.ts'
import { escapeHtml, layout } from './index.ts'

export interface AccountPageInput {
  signedInAs: string
  apps: ConnectedApp[]
  csrfToken: string
  revokeAction: string
  /** A one-line notice (after a revocation). */
  notice?: string | undefined
}

const when = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/:\d\d\.000Z$/, ' UTC').replace('T', ' ')

function appItem (app: ConnectedApp, input: AccountPageInput): string {
  const name = app.clientName ?? (app.clientId.startsWith('https://') ? app.clientId : 'An unnamed application')
  const id = app.clientId.length > 80 ? `${app.clientId.slice(0, 80)}…` : app.clientId
  return `<li class="app" data-grant="${escapeHtml(app.grantId)}"><h2>${escapeHtml(name)}</h2>
<dl><dt>Client</dt><dd><code>${escapeHtml(id)}</code></dd>
<dt>Returns to</dt><dd>${escapeHtml(app.redirectHosts.join(', ') || '-')}</dd>
<dt>Resource</dt><dd><code>${escapeHtml(app.resource)}</code></dd>
<dt>Scopes</dt><dd>${app.scope.map(s => `<code>${escapeHtml(s)}</code>`).join(' ')}</dd>
<dt>Connected</dt><dd>${when(app.createdAt)}</dd>
<dt>Last used</dt><dd>${when(app.lastUsedAt)}</dd>
<dt>Expires</dt><dd>${when(app.expiresAt)}</dd></dl>
<form method="post" action="${escapeHtml(input.revokeAction)}">
<input type="hidden" name="grant_id" value="${escapeHtml(app.grantId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<button type="submit">Revoke access</button></form></li>`
}

export function accountPage (input: AccountPageInput): string {
  const list = input.apps.length === 0
    ? '<p class="muted">No application has access on your behalf.</p>'
    : `<ul class="apps">${input.apps.map(app => appItem(app, input)).join('\n')}</ul>`
  return layout('Connected apps', `<h1>Connected apps</h1>
<p class="muted">Signed in as <strong>${escapeHtml(input.signedInAs)}</strong>. These applications can use your MCP tools until they expire or you revoke them; revoking also signs them out of the identity provider.</p>
${input.notice === undefined ? '' : `<p role="status"><strong>${escapeHtml(input.notice)}</strong></p>`}${list}`)
}
