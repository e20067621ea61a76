// The Lambda function's entry point (dist/lambda/index.cjs, handler `index.handler`): loads the bundled app
// (app.cjs, built from src/lambda.ts) through the code cache the build shipped next to it.
import { join } from 'node:path'
import { loadBundle } from './lambda-code-cache.ts'

const loaded = loadBundle(join(__dirname, 'app.cjs'))
const { status, builtFor, runningOn } = loaded.codeCache

// A cache that does not fit is not an error, but it makes every cold start slower: say so once, with
// what the cache was built for, so the operator can rebuild for this runtime (docs/deploy.md). A pino-shaped
// warning line, as the app's logger writes, since the logger does not exist yet.
if (status !== 'accepted' && !['silent', 'fatal', 'error'].includes(process.env.LOG_LEVEL ?? 'info')) {
  const describe = (f: typeof runningOn | undefined): string | undefined => f === undefined ? undefined : `${f.platform}-${f.arch} node ${f.node} (V8 ${f.v8}) ${f.execArgv.join(' ')}`.trim()
  process.stderr.write(JSON.stringify({ level: 40, time: Date.now(), msg: `code cache ${status}: cold starts compile the bundle from source`, codeCache: status, builtFor: describe(builtFor), runningOn: describe(runningOn) }) + '\n')
}

export const handler = loaded.exports.handler
export const codeCache = status
