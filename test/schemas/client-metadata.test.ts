// The ClientMetadata schema (src/schemas/client-metadata.ts): what it lets through and where it says a
// document or registration body fails (the member, so the rules can pick the RFC 7591 §3.2.2 code).
import t from 'tap'
import { clientMetadataProblem, problemAt } from '../../src/schemas/client-metadata.ts'
import { clientMetadataError } from '../../src/oauth/clients.ts'
import { InvalidClientMetadataError, InvalidRedirectUriError } from '../../src/oauth/errors.ts'

t.test('RFC 7591 §2: null members read as absent, unknown members are allowed', async t => {
  t.equal(clientMetadataProblem({}), undefined)
  t.equal(clientMetadataProblem({ client_name: null, redirect_uris: null, scope: null, contacts: null, application_type: null }), undefined)
  t.equal(clientMetadataProblem({ redirect_uris: ['https://a.example/cb'], tos_uri: 'https://a.example/tos', jwks: { keys: [] } }), undefined)
})

t.test('a member of the wrong shape is named, with the reason', async t => {
  const cases: Array<[unknown, string | undefined, RegExp]> = [
    [null, undefined, /object/],
    [[], undefined, /object/],
    ['x', undefined, /object/],
    [{ redirect_uris: 'https://a.example/cb' }, 'redirect_uris', /array/],
    [{ redirect_uris: ['https://a.example/cb', 1] }, 'redirect_uris', /string/],
    [{ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`) }, 'redirect_uris', /10/],
    [{ redirect_uris: [`https://a.example/${'x'.repeat(2000)}`] }, 'redirect_uris', /2000/],
    [{ client_name: 'a\u0007b' }, 'client_name', /^must be text without control characters$/],
    [{ client_name: 'x'.repeat(201) }, 'client_name', /200/],
    [{ contacts: 'ops@a.example' }, 'contacts', /array/],
    [{ token_endpoint_auth_method: 1 }, 'token_endpoint_auth_method', /string/],
    [{ application_type: 'desktop' }, 'application_type', /.+/]
  ]
  for (const [value, member, message] of cases) {
    const problem = clientMetadataProblem(value)
    t.equal(problem?.member, member, JSON.stringify(value).slice(0, 60))
    t.match(problem?.message, message, JSON.stringify(value).slice(0, 60))
  }
})

t.test('RFC 7591 §3.2.2: a problem with redirect_uris is invalid_redirect_uri, any other invalid_client_metadata', async t => {
  t.type(clientMetadataError(problemAt('/redirect_uris/0', 'must be string')), InvalidRedirectUriError)
  t.type(clientMetadataError(problemAt('/redirect_uris', 'must be array')), InvalidRedirectUriError)
  const other = clientMetadataError(problemAt('/client_uri', 'must be string'))
  t.type(other, InvalidClientMetadataError)
  t.equal(other.description, 'client_uri must be string')
  t.equal(clientMetadataError(problemAt('', 'must be object')).description, 'client metadata must be a JSON object')
})
