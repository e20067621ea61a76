// The Lambda entry builds the app with lambdaOptions(): Ajv's meta-schema check of route schemas is off
// there (a cold-start cost). Everything else about validation must be identical: the same routes, and the
// same answers to requests the schemas reject. The default option set (tests, local runs) still checks
// every route schema against the meta-schema at start: building the app with it here is that check.
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ajvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler'
import gatehouse, { lambdaOptions, lazySerializers, lazyValidators, options } from '../../src/app.ts'
import serializerCompiler, { type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { loadConfig } from '../../src/config.ts'
import { startTestStore } from '../support/store.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

const requests: Array<{ method: 'GET' | 'POST', url: string, headers?: Record<string, string>, payload?: string }> = [
  { method: 'GET', url: '/authorize' },
  { method: 'GET', url: '/authorize?client_id=a&client_id=b&response_type=code' },
  { method: 'GET', url: '/authorize?response_type=code&client_id=c&redirect_uri=https%3A%2F%2Fx.example%2Fcb&code_challenge=x&code_challenge_method=S256&state=s&scope=mcp%3Aread' },
  { method: 'GET', url: '/callback' },
  { method: 'GET', url: '/callback?code=a&code=b&state=s' },
  { method: 'POST', url: '/authorize/consent', headers: FORM, payload: '' },
  { method: 'POST', url: '/authorize/consent', headers: FORM, payload: 'transaction=a&transaction=b' },
  { method: 'POST', url: '/token', headers: FORM, payload: 'grant_type=authorization_code&grant_type=refresh_token' },
  { method: 'POST', url: '/token', headers: FORM, payload: 'grant_type=client_credentials' },
  { method: 'POST', url: '/token', headers: FORM, payload: '' },
  { method: 'POST', url: '/revoke', headers: FORM, payload: 'token=a&token=b' },
  { method: 'POST', url: '/introspect', headers: FORM, payload: 'token=a&token=b' },
  { method: 'POST', url: '/register', headers: { 'content-type': 'application/json' }, payload: '[]' },
  // Answers with response schemas (serialized by fast-json-stringify; lazily compiled in the Lambda).
  { method: 'GET', url: '/.well-known/oauth-authorization-server' },
  { method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' },
  { method: 'GET', url: '/healthz' }
]

async function build (t: Test, serverOptions: typeof options, routes: string[]): Promise<FastifyInstance> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-schemas-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const store = await startTestStore(t)
  const config = loadConfig({ GATEHOUSE_DATA_DIR: dataDir, UPSTREAM_ISSUER: 'http://127.0.0.1:9', LOG_LEVEL: 'silent' })
  const app = Fastify({ ...serverOptions, logger: false })
  app.addHook('onRoute', route => { routes.push(`${String(route.method)} ${route.url} ${JSON.stringify(route.schema ?? null)}`) })
  await app.register(gatehouse, { config, services: { store: store.store } })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

t.test('Lambda options skip only the meta-schema check and compile lazily: same routes, same schemas, same answers', async t => {
  const defaultRoutes: string[] = []
  const lambdaRoutes: string[] = []
  const byDefault = await build(t, options, defaultRoutes)
  const inLambda = await build(t, lambdaOptions('silent'), lambdaRoutes)
  t.equal(lambdaOptions('silent').ajv?.customOptions?.validateSchema, false)
  t.not(options.ajv?.customOptions?.validateSchema, false, 'the default option set checks route schemas against the meta-schema')
  t.same(lambdaRoutes, defaultRoutes)
  t.ok(defaultRoutes.filter(r => !r.endsWith(' null')).length >= 5, 'the OAuth routes carry schemas')
  for (const request of requests) {
    const [a, b] = await Promise.all([byDefault.inject(request), inLambda.inject(request)])
    const view = (r: typeof a): unknown => ({ status: r.statusCode, type: r.headers['content-type'], location: r.headers.location, body: r.body.replace(/"(transaction|state)":"[^"]*"/g, '') })
    t.same(view(b), view(a), `${request.method} ${request.url} ${request.payload ?? ''}`)
  }
})

/** Fastify's own validator compiler, counting the routes it compiles. */
function countingCompiler (): { factory: ValidatorFactory, compiled: () => number } {
  let compiled = 0
  const fastifys = ajvCompiler()
  const factory: ValidatorFactory = (externalSchemas, ajvOptions) => {
    const compile = fastifys(externalSchemas, ajvOptions)
    return (route) => { compiled++; return compile(route) }
  }
  return { factory, compiled: () => compiled }
}

t.test('Lambda options compile each route\'s validators on its first request, once, with Fastify\'s own compiler', async t => {
  const counting = countingCompiler()
  const app = await build(t, { ...lambdaOptions('silent'), schemaController: { compilersFactory: { buildValidator: lazyValidators(counting.factory) } } }, [])
  t.equal(counting.compiled(), 0, 'nothing compiled at start')
  const request = { method: 'POST' as const, url: '/token', headers: FORM, payload: 'grant_type=authorization_code&grant_type=refresh_token' }
  const first = await app.inject(request)
  t.equal(first.statusCode, 400)
  t.equal(first.json().error, 'invalid_request', 'the schema rejected the repeated parameter')
  t.ok(counting.compiled() >= 1, 'the /token validator was compiled for its first request')
  const afterFirst = counting.compiled()
  await app.inject(request)
  t.equal(counting.compiled(), afterFirst, 'and not again')
})

t.test('lazy validators behave as Fastify\'s eager ones: root coercion through the parent, errors, defaults', async t => {
  const routes = (app: FastifyInstance): void => {
    app.post('/array', { schema: { body: { type: 'array' } } }, async request => ({ body: request.body, isArray: Array.isArray(request.body) }))
    app.get('/query', { schema: { querystring: { type: 'object', properties: { n: { type: 'integer', default: 3 } } } } }, async request => request.query)
  }
  const eager = Fastify({ logger: false })
  const lazy = Fastify({ logger: false, schemaController: { compilersFactory: { buildValidator: lazyValidators() } } })
  for (const app of [eager, lazy]) { routes(app); t.teardown(() => app.close()) }
  const requests = [
    { method: 'POST' as const, url: '/array', headers: { 'content-type': 'application/json' }, payload: '5' },
    { method: 'POST' as const, url: '/array', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' },
    { method: 'GET' as const, url: '/query' },
    { method: 'GET' as const, url: '/query?n=7' },
    { method: 'GET' as const, url: '/query?n=x' }
  ]
  for (const request of requests) {
    const [a, b] = [await eager.inject(request), await lazy.inject(request)]
    t.same({ status: b.statusCode, body: b.json() }, { status: a.statusCode, body: a.json() }, `${request.method} ${request.url} ${request.payload ?? ''}`)
  }
  t.same((await lazy.inject(requests[0]!)).json(), { body: [5], isArray: true }, 'the root value was coerced in place, as Fastify does')
})

t.test('a lazy validator whose schema does not compile fails its requests with the same error, compiled once', async t => {
  const counting = countingCompiler()
  const app = Fastify({ logger: false, schemaController: { compilersFactory: { buildValidator: lazyValidators(counting.factory) } } })
  app.post('/bad', { schema: { body: { type: 'intger' } } }, async () => ({ ok: true }))
  t.teardown(() => app.close())
  await app.ready()
  const request = { method: 'POST' as const, url: '/bad', headers: { 'content-type': 'application/json' }, payload: '1' }
  const [first, second] = [await app.inject(request), await app.inject(request)]
  t.equal(first.statusCode, 500)
  t.same(second.json(), first.json(), 'the same error both times')
  t.equal(counting.compiled(), 1, 'compiled once, not on every request')
  t.notOk(JSON.stringify(second.json()).includes('"ok"'), 'the handler never ran')
})

/** Fastify's own serializer compiler, counting the serializers it builds. */
function countingSerializers (): { factory: SerializerFactory, compiled: () => number } {
  let compiled = 0
  const fastifys = serializerCompiler()
  const factory: SerializerFactory = (externalSchemas, serializerOptions) => {
    const compile = fastifys(externalSchemas, serializerOptions)
    return (route) => { compiled++; return compile(route) }
  }
  return { factory, compiled: () => compiled }
}

t.test('Lambda options build each response serializer on its first answer, once, with Fastify\'s own compiler', async t => {
  const counting = countingSerializers()
  const app = await build(t, { ...lambdaOptions('silent'), schemaController: { compilersFactory: { buildValidator: lazyValidators(), buildSerializer: lazySerializers(counting.factory) } } }, [])
  t.equal(counting.compiled(), 0, 'nothing built at start')
  const first = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
  t.equal(first.statusCode, 200)
  t.equal(counting.compiled(), 1, 'the discovery document\'s serializer, for its first answer')
  await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
  t.equal(counting.compiled(), 1, 'and not again')
})

t.test('lazy serializers behave as Fastify\'s eager ones: undeclared members dropped, declared ones coerced', async t => {
  const routes = (app: FastifyInstance): void => {
    app.get('/doc', { schema: { response: { 200: { type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer' } } }, '4xx': { type: 'object', properties: { error: { type: 'string' } } } } } }, async (request, reply) =>
      (request.query as { fail?: string }).fail === undefined ? { a: 'x', n: '7', secret: 'not declared' } : reply.code(400).send({ error: 'bad', detail: 'not declared' }))
  }
  const eager = Fastify({ logger: false })
  const lazy = Fastify({ logger: false, schemaController: { compilersFactory: { buildSerializer: lazySerializers() } } })
  for (const app of [eager, lazy]) { routes(app); t.teardown(() => app.close()) }
  for (const url of ['/doc', '/doc?fail=1']) {
    const [a, b] = [await eager.inject({ method: 'GET', url }), await lazy.inject({ method: 'GET', url })]
    t.same({ status: b.statusCode, body: b.body }, { status: a.statusCode, body: a.body }, url)
  }
  t.equal((await lazy.inject({ method: 'GET', url: '/doc' })).body, '{"a":"x","n":7}', 'the undeclared member is not sent')
})
