// CLI entry of the development IdP: `node src/dev/main.ts [--port N] [--client-id ID] [--client-secret S] [--redirect-uri URL]...`
// Prints exactly one line on stdout, `dev-idp ready <issuer>`, so a parent process can wait for it.
import { parseArgs } from 'node:util'
import { loadConfig, ConfigError, type Config } from '../config.ts'
import { createDevIdp } from './idp.ts'

function fail (message: string): never {
  process.stderr.write(`dev-idp: ${message}\n`)
  process.exit(1)
}

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) fail(err.message)
  throw err
}
if (config.inLambda) fail('refusing to start inside AWS Lambda (AWS_LAMBDA_FUNCTION_NAME is set): the development IdP is for local runs only')

let args: ReturnType<typeof parse>
function parse () {
  return parseArgs({
    options: {
      port: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true }
    },
    strict: true,
    allowPositionals: false
  }).values
}
try {
  args = parse()
} catch (err) {
  fail((err as Error).message)
}

const port = args.port === undefined ? config.devIdpPort : Number(args.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: not a port number (got ${JSON.stringify(args.port)})`)
const redirectUris = args['redirect-uri'] ?? [`${config.publicUrl}/callback`]
for (const uri of redirectUris) if (URL.parse(uri) === null) fail(`--redirect-uri: not a URL (got ${JSON.stringify(uri)})`)

const idp = createDevIdp({
  port,
  clients: [{
    clientId: args['client-id'] ?? config.upstream.clientId,
    // An empty --client-secret means a public client.
    clientSecret: (args['client-secret'] ?? config.upstream.clientSecret) || undefined,
    redirectUris
  }]
})

try {
  const issuer = await idp.listen()
  process.stdout.write(`dev-idp ready ${issuer}\n`)
} catch (err) {
  fail(`cannot listen on port ${port}: ${(err as Error).message}`)
}

let closing = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return
    closing = true
    // Exit explicitly: oidc-provider keeps timers (caches) that would hold the event loop open.
    idp.close().then(() => process.exit(0), err => {
      process.stderr.write(`dev-idp: close failed: ${(err as Error).message}\n`)
      process.exit(1)
    })
  })
}
