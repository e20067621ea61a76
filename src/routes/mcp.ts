// Placeholder replaced by the MCP resource server.
import type { FastifyPluginAsync } from 'fastify'
const mcpRoutes: FastifyPluginAsync = async () => {}
export default mcpRoutes
