// AWS Lambda entry: the very same app, wrapped by @fastify/aws-lambda for API Gateway HTTP API (payload 2.0).
import Fastify from 'fastify'
import awsLambdaFastify from '@fastify/aws-lambda'
import gatehouse, { lambdaOptions } from './app.ts'
import type { AwsCredentials } from './aws/sigv4.ts'
import { loadConfig } from './config.ts'
import { isSmokeCheckEvent, smokeCheck } from './smoke-check.ts'

const config = loadConfig()
const app = Fastify(lambdaOptions(config.logLevel))
void app.register(gatehouse, { config, awsCredentials: roleCredentials(process.env) })

/**
 * The execution role's credentials, which the runtime puts in the environment for the environment's lifetime
 * (the SDK's fromEnv reads the same, once). With them the app reaches DynamoDB, KMS and Secrets Manager through
 * src/aws/json-client.ts and loads no SDK client; without them (or with FIPS or dual-stack endpoints asked for,
 * which that client does not choose), the SDK clients as everywhere else.
 */
function roleCredentials (env: NodeJS.ProcessEnv): AwsCredentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env
  if (accessKeyId === undefined || accessKeyId === '' || secretAccessKey === undefined || secretAccessKey === '') return undefined
  if (env.AWS_USE_FIPS_ENDPOINT === 'true' || env.AWS_USE_DUALSTACK_ENDPOINT === 'true') return undefined
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined || sessionToken === '' ? {} : { sessionToken }) }
}

// Start initialising during the init phase (free CPU burst on cold start); the proxy awaits readiness.
const ready: Promise<unknown> = Promise.resolve(app.ready())
ready.catch((error: unknown) => { app.log.error({ err: error }, 'gatehouse failed to start') })

const proxy = awsLambdaFastify(app, { callbackWaitsForEmptyEventLoop: false, decorateRequest: false, serializeLambdaArguments: false })

export const handler = async (event: Parameters<typeof proxy>[0], context: Parameters<typeof proxy>[1]): Promise<unknown> => {
  await ready
  // The deployer's post-deploy check (scripts/smoke-check.ts, by direct invocation only).
  if (isSmokeCheckEvent(event)) return await smokeCheck(app.gatehouse)
  return await proxy(event, context)
}
