// The cold-start "floor" of `npm run bench:cold-start` (issue 17): the smallest Lambda any user of gatehouse's
// required packages would write. Fastify + @fastify/aws-lambda + @aws-sdk/client-dynamodb, answering
// POST /mcp with a fixed JSON-RPC result after one GetItem (the bench's grant item). Bundled with the same
// esbuild settings as the function (AWS SDK left to the runtime), no code cache: what gatehouse is compared to.
import Fastify from 'fastify'
import awsLambdaFastify from '@fastify/aws-lambda'
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'

const client = new DynamoDBClient({})
const app = Fastify()
app.post('/mcp', async (request) => {
  const id = (request.body as { id?: unknown }).id ?? null
  const key = `GRANT#${process.env.FLOOR_GRANT_ID}`
  const out = await client.send(new GetItemCommand({ TableName: process.env.GATEHOUSE_TABLE, Key: { pk: { S: key }, sk: { S: key } } }))
  const email = out.Item?.identity?.M?.email?.S ?? 'unknown'
  return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: JSON.stringify({ email }) }] } }
})

export const handler = awsLambdaFastify(app)
