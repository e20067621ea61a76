// Child process of scripts/code-cache.ts, started with the Lambda runtime's Node flags:
//   node <flags> scripts/code-cache-warm-up.ts <bundle.cjs> <events.json>
// Loads the bundle without a cache, answers each event (each must get its expected status, or the cache
// would miss the code of the path that failed), then writes the code cache next to the bundle.
import { readFileSync } from 'node:fs'
import { loadBundle, saveCodeCache } from '../src/lambda-code-cache.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number, body?: string }>

const [bundleFile, eventsFile] = process.argv.slice(2)
if (bundleFile === undefined || eventsFile === undefined) throw new Error('usage: code-cache-warm-up.ts <bundle.cjs> <events.json>')
const events = (JSON.parse(readFileSync(eventsFile, 'utf8')) as Array<{ event: unknown, status: number }>)
const loaded = loadBundle(bundleFile, { useCache: false })
const handler = loaded.exports.handler as Handler
for (const { event, status } of events) {
  const answer = await handler(event, { functionName: 'gatehouse', awsRequestId: 'warm-up', callbackWaitsForEmptyEventLoop: false })
  if (answer.statusCode !== status || (status === 200 && /"(error|isError)"\s*:\s*(\{|true)/.test(answer.body ?? ''))) {
    throw new Error(`warm-up request got ${answer.statusCode} (expected ${status}): ${(answer.body ?? '').slice(0, 300)}`)
  }
}
process.stdout.write(`code-cache-bytes ${saveCodeCache(bundleFile, loaded)}\n`)
process.exit(0)
