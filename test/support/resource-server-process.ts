// A separately deployed MCP server that accepts gatehouse's tokens through the resource-server kit, run as
// its own process and importing the kit by its package export, as another team's service would (run with
// --conditions=gatehouse-source, the export resolves to the TypeScript source here).
// KIT_OPTIONS (JSON) are the plugin's options; KIT_PORT the port. Prints {"port": n} once listening.
import Fastify from 'fastify'
import gatehouseResourceServer, { type ResourceServerOptions } from 'gatehouse/resource-server'

const options = JSON.parse(process.env.KIT_OPTIONS ?? '{}') as ResourceServerOptions
const app = Fastify()
await app.register(gatehouseResourceServer, options)
app.get('/whoami', { preHandler: app.gatehouseAuthenticate }, async request => request.gatehouseAuth)
app.post('/admin', { preHandler: app.gatehouseRequireScopes('mcp:admin') }, async () => ({ ok: true }))
// Just enough MCP for the gateway to forward to: every request is answered with who called.
app.post('/mcp', { preHandler: app.gatehouseAuthenticate }, async request => ({ jsonrpc: '2.0', id: (request.body as { id?: unknown }).id ?? null, result: { auth: request.gatehouseAuth } }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.KIT_PORT ?? 0) })
const address = app.server.address()
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`)
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
