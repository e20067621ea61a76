import t from 'tap'
import { buildRedirect, findMatchingRedirectUri, redirectUriMatches, redirectUriProblem } from '../../src/oauth/redirect-uris.ts'

const SCHEMES = ['cursor', 'vscode', 'vscode-insiders']

t.test('DESIGN decision 5: https anywhere, http only on loopback, private-use schemes only from the allow-list', async t => {
  for (const ok of ['https://app.example.com/cb', 'http://127.0.0.1/cb', 'http://127.0.0.1:5173/cb', 'http://[::1]:8080/cb', 'http://localhost:33418/', 'cursor://anysphere.cursor-retrieval/oauth/callback', 'vscode://vscode.github-authentication/did-authenticate']) {
    t.equal(redirectUriProblem(ok, SCHEMES), undefined, ok)
  }
  for (const bad of ['http://example.com/cb', 'http://10.0.0.1/cb', 'javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'https://app.example.com/cb#frag', 'https://*.example.com/cb', 'myapp://cb', 'relative/path', 'https://user:pw@example.com/cb', 'https://example.com/a b', 'http://127.0.0.1.evil.com/cb']) {
    t.type(redirectUriProblem(bad, SCHEMES), 'string', bad)
  }
})

t.test('RFC 8252 §7.3: loopback redirect URIs match on any port, everything else exactly', async t => {
  t.ok(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:49152/callback'))
  t.ok(redirectUriMatches('http://localhost:3000/callback', 'http://localhost:4000/callback'))
  t.notOk(redirectUriMatches('http://127.0.0.1/callback', 'http://127.0.0.1:49152/other'), 'path must match')
  t.notOk(redirectUriMatches('http://127.0.0.1/callback', 'http://localhost:49152/callback'), 'host must match')
  t.notOk(redirectUriMatches('https://app.example.com/cb', 'https://app.example.com:444/cb'), 'https port is exact')
  t.notOk(redirectUriMatches('https://app.example.com/cb', 'https://app.example.com/cb/'), 'no prefix matching')
  t.notOk(redirectUriMatches('https://app.example.com/cb', 'https://app.example.com/cb?x=1'))
  t.notOk(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:1/cb#x'))
})

t.test('a missing redirect_uri is accepted only when exactly one is registered', async t => {
  t.equal(findMatchingRedirectUri(['https://a.example/cb'], undefined), 'https://a.example/cb')
  t.equal(findMatchingRedirectUri(['https://a.example/cb', 'https://b.example/cb'], undefined), undefined)
  t.equal(findMatchingRedirectUri(['https://a.example/cb'], 'https://evil.example/cb'), undefined)
})

t.test('RFC 9207: the authorization response carries iss and keeps the registered query', async t => {
  const url = new URL(buildRedirect('https://a.example/cb?keep=1', { code: 'c', state: 's t', iss: 'https://as.example', error: undefined }))
  t.equal(url.searchParams.get('keep'), '1')
  t.equal(url.searchParams.get('state'), 's t')
  t.equal(url.searchParams.get('iss'), 'https://as.example')
  t.notOk(url.searchParams.has('error'))
})

t.test('RFC 9700 §4.1.3: loopback matching compares the strings as written, only the port may differ', async t => {
  const registered = 'http://127.0.0.1/cb'
  for (const variant of ['http://127.0.0.1:1/x/../cb', 'http://0x7f.1:1/cb', 'HTTP://127.0.0.1:1/cb', 'http:\\\\127.0.0.1:1/cb', 'http://127.0.0.1:1/c\tb', 'http://127.0.0.1:1/%63b', 'http://127.0.0.1:1/cb/', 'http://127.0.0.1:99999999/cb']) {
    t.notOk(redirectUriMatches(registered, variant), JSON.stringify(variant))
  }
  t.ok(redirectUriMatches(registered, 'http://127.0.0.1:8080/cb'))
  t.ok(redirectUriMatches('http://[::1]:3000/cb?x=1', 'http://[::1]:4000/cb?x=1'))
})
