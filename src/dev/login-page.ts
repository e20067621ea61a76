// The development IdP's own sign-in page: plain HTML, no scripts, never framed.
import type { ServerResponse } from 'node:http'

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

export interface LoginPageOptions {
  action: string
  clientId: string
  username?: string
  error?: string
}

export function renderLoginPage (options: LoginPageOptions): string {
  const error = options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — development IdP</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}label,input,button{display:block;width:100%;box-sizing:border-box;margin:.25rem 0}input{padding:.5rem}button{padding:.6rem;margin-top:1rem}.error{color:#b00020}.hint{color:#555;font-size:.85rem}</style>
</head>
<body>
<h1>Sign in</h1>
<p class="hint">Development identity provider for <strong>${escapeHtml(options.clientId)}</strong>. Demo users: alice / alice, bob / bob.</p>
${error}
<form method="post" action="${escapeHtml(options.action)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(options.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`
}

export function sendHtml (res: ServerResponse, status: number, html: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  // Clickjacking defence for a credentials form; no form-action, because Chromium applies it to the
  // redirect chain that ends at the relying party's callback.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.end(html)
}
