// POST /token (and its siblings /introspect, /revoke) through app.inject: form bodies only (RFC 6749 §3.2),
// no repeated parameters (§3.2), no-store on every answer (§5.1, §5.2), invalid_client as 401 (§5.2).
import t from 'tap'
import { buildTestApp } from '../support/app.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('RFC 6749 §3.2: a JSON body is refused with invalid_request (form-encoded only)', async t => {
  const { app } = await buildTestApp(t)
  for (const url of ['/token', '/introspect', '/revoke']) {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: { grant_type: 'authorization_code', code: 'x', token: 'x', client_id: 'c' } })
    t.equal(res.statusCode, 400, `${url}: 400`)
    t.equal(res.json().error, 'invalid_request', `${url}: invalid_request`)
    t.equal(res.headers['cache-control'], 'no-store', `${url}: no-store`)
  }
  const text = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=authorization_code' })
  t.equal(text.statusCode, 400)
  t.equal(text.json().error, 'invalid_request')
  const none = await app.inject({ method: 'POST', url: '/token' })
  t.equal(none.statusCode, 400, 'no body')
  t.equal(none.json().error, 'invalid_request')
})

t.test('RFC 6749 §3.2: a repeated parameter is invalid_request', async t => {
  const { app } = await buildTestApp(t)
  for (const payload of ['grant_type=authorization_code&code=a&code=b&client_id=c', 'grant_type=authorization_code&grant_type=refresh_token&client_id=c', 'grant_type=refresh_token&refresh_token=a&refresh_token=a&client_id=c']) {
    const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload })
    t.equal(res.statusCode, 400, payload)
    t.equal(res.json().error, 'invalid_request', payload)
    t.equal(res.headers['cache-control'], 'no-store')
  }
  const introspect = await app.inject({ method: 'POST', url: '/introspect', headers: FORM, payload: 'token=a&token=b' })
  t.equal(introspect.json().error, 'invalid_request', '/introspect too')
})

t.test('RFC 6749 §5.2: every error carries Cache-Control: no-store and a JSON error body', async t => {
  const { app } = await buildTestApp(t)
  const reg = await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] } })
  const clientId: string = reg.json().client_id
  const cases: Array<[string, string, number, string]> = [
    ['no grant_type', `client_id=${clientId}`, 400, 'invalid_request'],
    ['unknown grant_type', `grant_type=password&client_id=${clientId}`, 400, 'unsupported_grant_type'],
    ['client_credentials', `grant_type=client_credentials&client_id=${clientId}`, 400, 'unsupported_grant_type'],
    ['unknown code', `grant_type=authorization_code&code=nope&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&code_verifier=${'v'.repeat(43)}&client_id=${clientId}`, 400, 'invalid_grant'],
    ['grant type the client did not register', `grant_type=refresh_token&refresh_token=x&client_id=${clientId}`, 400, 'unauthorized_client'],
    ['no client at all', 'grant_type=authorization_code&code=x', 401, 'invalid_client'],
    ['a parameter value over the size limit', `grant_type=authorization_code&code=${'a'.repeat(9000)}&client_id=${clientId}`, 400, 'invalid_request']
  ]
  for (const [name, payload, status, error] of cases) {
    const res = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload })
    t.equal(res.statusCode, status, `${name}: ${status}`)
    t.equal(res.json().error, error, `${name}: ${error}`)
    t.type(res.json().error_description, 'string', `${name}: description`)
    t.equal(res.headers['cache-control'], 'no-store', `${name}: no-store`)
    t.equal(res.headers.pragma, 'no-cache', `${name}: pragma`)
  }
})

t.test('RFC 6749 §5.2: an unknown client is 401 invalid_client; with Basic credentials the answer challenges Basic', async t => {
  const { app } = await buildTestApp(t)
  const body = await app.inject({ method: 'POST', url: '/token', headers: FORM, payload: 'grant_type=authorization_code&code=x&client_id=no-such-client' })
  t.equal(body.statusCode, 401)
  t.equal(body.json().error, 'invalid_client')
  t.equal(body.headers['cache-control'], 'no-store')
  t.notMatch(body.body, /no-such-client/, 'the client id is not echoed')

  const basic = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: `Basic ${Buffer.from('no-such-client:secret').toString('base64')}` }, payload: 'grant_type=authorization_code&code=x' })
  t.equal(basic.statusCode, 401)
  t.equal(basic.json().error, 'invalid_client')
  t.match(basic.headers['www-authenticate'], /^Basic /)
  t.equal(basic.headers['cache-control'], 'no-store')

  const malformed = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }, payload: 'grant_type=authorization_code&code=x' })
  t.equal(malformed.statusCode, 401)
  t.equal(malformed.json().error, 'invalid_client')

  const introspect = await app.inject({ method: 'POST', url: '/introspect', headers: FORM, payload: 'token=x&client_id=no-such-client&client_secret=s' })
  t.equal(introspect.statusCode, 401)
  t.equal(introspect.json().error, 'invalid_client')
  const revoke = await app.inject({ method: 'POST', url: '/revoke', headers: FORM, payload: 'token=x&client_id=no-such-client' })
  t.equal(revoke.statusCode, 401)
  t.equal(revoke.json().error, 'invalid_client')
})

t.test('a confidential client with a wrong secret, or a public client sending one, is invalid_client', async t => {
  const { app } = await buildTestApp(t)
  const conf = (await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'client_secret_post' } })).json()
  const pub = (await app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['https://client.example/cb'], token_endpoint_auth_method: 'none' } })).json()
  const cases: Array<[string, string, Record<string, string>]> = [
    ['wrong secret', `grant_type=authorization_code&code=x&client_id=${conf.client_id}&client_secret=wrong`, {}],
    ['no secret', `grant_type=authorization_code&code=x&client_id=${conf.client_id}`, {}],
    ['Basic for a client_secret_post client', 'grant_type=authorization_code&code=x', { authorization: `Basic ${Buffer.from(`${conf.client_id}:${conf.client_secret}`).toString('base64')}` }],
    ['public client sending a secret', `grant_type=authorization_code&code=x&client_id=${pub.client_id}&client_secret=anything`, {}]
  ]
  for (const [name, payload, headers] of cases) {
    const res = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, ...headers }, payload })
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error, 'invalid_client', name)
    t.equal(res.headers['cache-control'], 'no-store', name)
  }
  const both = await app.inject({ method: 'POST', url: '/token', headers: { ...FORM, authorization: `Basic ${Buffer.from(`${conf.client_id}:${conf.client_secret}`).toString('base64')}` }, payload: `grant_type=authorization_code&code=x&client_secret=${conf.client_secret}` })
  t.equal(both.statusCode, 400, 'two authentication methods at once')
  t.equal(both.json().error, 'invalid_request')
})
