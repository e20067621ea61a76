import t from 'tap'
import { clientFromMetadataDocument, validateClientMetadata } from '../../src/oauth/clients.ts'
import { InvalidClientError, InvalidRedirectUriError } from '../../src/oauth/errors.ts'
import { createFakeClock } from '../support/store.ts'

const OPTIONS = { scopes: ['mcp:read', 'mcp:write'], redirectSchemes: ['cursor'], issuer: 'https://gatehouse.example' }

t.test('DESIGN decision 8: a redirect URI may not point back at this server (no same-origin consent-skipping chains)', async t => {
  const chained = 'https://gatehouse.example/authorize?client_id=victim&redirect_uri=https%3A%2F%2Fvictim.example%2Fcb'
  t.throws(() => validateClientMetadata({ redirect_uris: [chained] }, OPTIONS), InvalidRedirectUriError)
  t.throws(() => validateClientMetadata({ redirect_uris: ['https://GATEHOUSE.example:443/cb'] }, OPTIONS), InvalidRedirectUriError, 'same origin in another spelling')
  t.doesNotThrow(() => validateClientMetadata({ redirect_uris: ['https://gatehouse.example.evil.com/cb'] }, OPTIONS))
  t.throws(() => clientFromMetadataDocument('https://app.example/client.json', { client_id: 'https://app.example/client.json', redirect_uris: [chained] }, { ...OPTIONS, clock: createFakeClock() }), InvalidClientError, 'also for metadata documents')
})

t.test('RFC 7591 §2: defaults and validation of client metadata', async t => {
  const v = validateClientMetadata({ redirect_uris: ['http://127.0.0.1/cb'] }, OPTIONS)
  t.equal(v.tokenEndpointAuthMethod, 'client_secret_basic', 'RFC 7591 default auth method')
  t.same(v.grantTypes, ['authorization_code'])
  t.throws(() => validateClientMetadata({ redirect_uris: ['http://127.0.0.1/cb'], scope: 'admin' }, OPTIONS))
  t.throws(() => validateClientMetadata({ redirect_uris: ['http://127.0.0.1/cb'], logo_uri: 'http://insecure.example/logo.png' }, OPTIONS), 'logo must be https')
})
