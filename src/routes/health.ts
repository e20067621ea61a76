import type { FastifyPluginAsync } from 'fastify'
import { Health } from '../schemas/index.ts'

/** Liveness plus store reachability; 503 when the store does not answer. */
const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { response: { 200: Health, 503: Health } } }, async (request, reply) => {
    try {
      await app.gatehouse.ctx.store.ping()
      return reply.header('cache-control', 'no-store').send({ status: 'ok', store: 'ok' })
    } catch (error) {
      request.log.warn({ err: error }, 'health check: store unreachable')
      return reply.code(503).header('cache-control', 'no-store').send({ status: 'degraded', store: 'unreachable' })
    }
  })
}

export default healthRoutes
