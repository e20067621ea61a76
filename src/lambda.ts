// AWS Lambda entry: the very same app, wrapped by @fastify/aws-lambda for API Gateway HTTP API (payload 2.0).
import Fastify from 'fastify'
import awsLambdaFastify from '@fastify/aws-lambda'
import gatehouse, { lambdaOptions } from './app.ts'
import { loadConfig } from './config.ts'
import { isSmokeCheckEvent, smokeCheck } from './smoke-check.ts'

const config = loadConfig()
const app = Fastify(lambdaOptions(config.logLevel))
void app.register(gatehouse, { config })

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
