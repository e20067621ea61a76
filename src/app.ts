// The gatehouse Fastify application: a default-exported async plugin, which is what `fastify start`
// loads locally and what src/lambda.ts wraps on AWS. Wiring only; behaviour lives in src/oauth and src/mcp.
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import ajvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler'
import serializerCompiler, { type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import rateLimit from '@fastify/rate-limit'
import { clientAddressKey } from './plugins/rate-limits.ts'
import { loadConfig, type Config } from './config.ts'
import errorsPlugin from './plugins/errors.ts'
import type { AwsCredentials } from './aws/sigv4.ts'
import { composeGatehouse, type Services } from './compose.ts'
import { corsDelegator, originChecker } from './plugins/origins.ts'
import authorizeRoutes from './routes/oauth/authorize.ts'
import tokenRoutes from './routes/oauth/token-endpoints.ts'
import wellKnownRoutes from './routes/well-known/index.ts'
import healthRoutes from './routes/health.ts'
import mcpRoutes from './routes/mcp.ts'
import gatewayRoutes from './routes/gateway.ts'
import accountRoutes from './routes/account.ts'
import type { McpExtension } from './mcp/extension.ts'

export interface AppOptions {
  /** Parsed from the environment when absent. */
  config?: Config
  /** Adapters injected by tests; built from the config otherwise. */
  services?: Partial<Services>
  /** The Lambda's role credentials (src/lambda.ts): AWS is then reached without the SDK's clients (compose.ts). */
  awsCredentials?: AwsCredentials | undefined
  /**
   * Tests only: more MCP capabilities, tools and methods on /mcp (the conformance suite's reference
   * fixtures, test/support/conformance-fixtures.ts). The Lambda and `fastify start` never pass one.
   */
  mcpExtension?: McpExtension
}

/** Logged request shape: no query string (codes, states), no headers (tokens, cookies). */
function requestSerializer (request: { method: string, url: string, ip?: string, socket?: { remoteAddress?: string } }): Record<string, unknown> {
  // The connection's address (no proxy headers are trusted; on Lambda, API Gateway's sourceIp).
  return { method: request.method, path: request.url.split('?')[0], ip: request.socket?.remoteAddress ?? request.ip }
}

/** Ajv options for route schemas (also what src/lambda.ts builds on). */
export const ajvCustomOptions = { removeAdditional: false, coerceTypes: false, allErrors: false } as const

/** Server options for `fastify start --options` and for the Lambda and test entry points. */
export const options: FastifyServerOptions = {
  logger: {
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.access_token', '*.refresh_token', '*.id_token', '*.code', '*.client_secret', '*.code_verifier', '*.token', '*.password'],
      censor: '[redacted]'
    },
    serializers: { req: requestSerializer }
  },
  bodyLimit: 1024 * 1024,
  return503OnClosing: true,
  requestTimeout: 30000,
  ajv: { customOptions: ajvCustomOptions }
}

/**
 * Fastify's own Ajv validator compiler (the same factory, the same options), but each route's validator is
 * compiled when that route first validates a request instead of at start: a cold start compiles only what
 * its first request needs (≈ 10 ms of Ajv code generation otherwise).
 */
export function lazyValidators (factory: ValidatorFactory = ajvCompiler()): ValidatorFactory {
  return (externalSchemas, ajvOptions) => {
    let compiler: ReturnType<ValidatorFactory> | undefined
    return (route) => {
      type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown, schemaEnv?: unknown }
      let validate: Validate | undefined
      let failure: unknown
      const compiled = (): Validate => {
        // A schema that does not compile fails every request the same way, without compiling again.
        if (failure !== undefined) throw failure
        try {
          compiler ??= factory(externalSchemas, ajvOptions)
          validate ??= compiler(route) as Validate
        } catch (error) {
          failure = error
          throw error
        }
        return validate
      }
      // Fastify passes the parent (so Ajv may coerce or default a root value) only to validators that
      // have a `schemaEnv`, which it reads before the call: answer it by compiling then.
      const lazy: Validate = (data, context) => {
        const validator = compiled()
        const result = validator(data, context)
        lazy.errors = validator.errors // Fastify reads the errors from the function it was given
        return result
      }
      Object.defineProperty(lazy, 'schemaEnv', { get: () => compiled().schemaEnv })
      return lazy as ReturnType<ReturnType<ValidatorFactory>>
    }
  }
}

/**
 * Fastify's own response serializer compiler (fast-json-stringify, the same options), but each route's
 * serializer for a status code is generated when that route first answers with it: a cold start builds the
 * serializers of its first answer only, not those of every route's every declared status.
 */
export function lazySerializers (factory: SerializerFactory = serializerCompiler()): SerializerFactory {
  return (externalSchemas, serializerOptions) => {
    let compiler: ReturnType<SerializerFactory> | undefined
    return (route) => {
      let serialize: ((data: unknown) => string) | undefined
      return (data: unknown) => {
        compiler ??= factory(externalSchemas, serializerOptions)
        serialize ??= compiler(route) as (data: unknown) => string
        return serialize(data)
      }
    }
  }
}

/**
 * Server options for the Lambda entry: the above, with Ajv's meta-schema check of route schemas off and
 * validators and response serializers compiled on first use. The schemas are static and every other entry
 * point (tests, local runs) still checks and compiles them all at start; compiling Ajv's draft-07 meta-schema to check them
 * again on every cold start costs ≈ 20–35 ms. test/lambda/schemas.test.ts shows both option sets answer
 * the same to requests the schemas reject.
 */
export function lambdaOptions (logLevel: string): FastifyServerOptions {
  return {
    ...options,
    ajv: { customOptions: { ...ajvCustomOptions, validateSchema: false } },
    schemaController: { compilersFactory: { buildValidator: lazyValidators(), buildSerializer: lazySerializers() } },
    logger: { ...(options.logger as object), level: logLevel }
  }
}

export default async function gatehouse (app: FastifyInstance, opts: AppOptions): Promise<void> {
  const config = opts.config ?? loadConfig()
  await app.register(errorsPlugin)
  await app.register(formbody, { bodyLimit: 64 * 1024 })
  // Only routes that opt in are limited; every limit is keyed on the connection address (rate-limits.ts).
  await app.register(rateLimit, { global: false, keyGenerator: clientAddressKey })
  // CORS answers only on the cross-origin endpoints, for the origins the /mcp Origin check allows.
  await app.register(cors, { delegator: corsDelegator(originChecker(config.publicUrl, config.allowedOrigins)) })
  const composed = await composeGatehouse(config, opts.services ?? {}, app.log, opts.awsCredentials)
  app.decorate('gatehouse', composed)
  app.addHook('onClose', async () => { await composed.close() })
  await app.register(healthRoutes)
  await app.register(wellKnownRoutes)
  if (config.mode === 'authorization-server') {
    await app.register(authorizeRoutes)
    await app.register(tokenRoutes)
    await app.register(accountRoutes)
  }
  await app.register(mcpRoutes, opts.mcpExtension === undefined ? {} : { extension: opts.mcpExtension })
  // /mcp/<name>: the MCP servers of GATEHOUSE_BACKENDS, each its own protected resource (none unless configured).
  await app.register(gatewayRoutes)
}

// Not encapsulated: the root instance (fastify-cli's, the Lambda's, a test's) sees `app.gatehouse`.
;(gatehouse as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true
