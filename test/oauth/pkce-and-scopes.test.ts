import t from 'tap'
import { s256, validateCodeChallenge, verifyCodeVerifier } from '../../src/oauth/pkce.ts'
import { narrowScope, resolveRequestedScope } from '../../src/oauth/scopes.ts'
import { InvalidGrantError, InvalidRequestError, InvalidScopeError } from '../../src/oauth/errors.ts'
import { matchesHash, safeEqual, sha256 } from '../../src/oauth/secrets.ts'

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'

t.test('RFC 7636 appendix B test vector', async t => {
  t.equal(s256(VERIFIER), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
})

t.test('OAuth 2.1 §4.1.1: PKCE is required and only S256 is accepted', async t => {
  t.throws(() => validateCodeChallenge(undefined, 'S256'), InvalidRequestError)
  t.throws(() => validateCodeChallenge(s256(VERIFIER), undefined), InvalidRequestError)
  t.throws(() => validateCodeChallenge(s256(VERIFIER), 'plain'), InvalidRequestError)
  t.throws(() => validateCodeChallenge('short', 'S256'), InvalidRequestError)
  t.equal(validateCodeChallenge(s256(VERIFIER), 'S256'), s256(VERIFIER))
})

t.test('a wrong or malformed code_verifier is invalid_grant', async t => {
  const challenge = s256(VERIFIER)
  t.doesNotThrow(() => verifyCodeVerifier(VERIFIER, challenge))
  t.throws(() => verifyCodeVerifier(VERIFIER.replace('d', 'e'), challenge), InvalidGrantError)
  t.throws(() => verifyCodeVerifier('too-short', challenge), InvalidGrantError)
  t.throws(() => verifyCodeVerifier(undefined, challenge), InvalidRequestError)
})

t.test('scopes: defaults when none asked, unknown refused, client registration limits, refresh only narrows', async t => {
  const options = { supported: ['mcp:read', 'mcp:write'], defaults: ['mcp:read', 'mcp:write'] }
  t.same(resolveRequestedScope(undefined, options), ['mcp:read', 'mcp:write'])
  t.same(resolveRequestedScope('mcp:read', options), ['mcp:read'])
  t.throws(() => resolveRequestedScope('admin', options), InvalidScopeError)
  t.throws(() => resolveRequestedScope('mcp:write', { ...options, clientScope: 'mcp:read' }), InvalidScopeError)
  t.same(resolveRequestedScope(undefined, { ...options, clientScope: 'mcp:read' }), ['mcp:read'])
  t.same(narrowScope('mcp:read', ['mcp:read', 'mcp:write']), ['mcp:read'])
  t.same(narrowScope(undefined, ['mcp:read']), ['mcp:read'])
  t.throws(() => narrowScope('mcp:write', ['mcp:read']), InvalidScopeError)
})

t.test('secrets compare in constant time through their hashes', async t => {
  t.ok(matchesHash('s3cret', sha256('s3cret')))
  t.notOk(matchesHash('s3cret!', sha256('s3cret')))
  t.ok(safeEqual('abc', 'abc'))
  t.notOk(safeEqual('abc', 'abd'))
  t.notOk(safeEqual('abc', 'abcd'))
})
