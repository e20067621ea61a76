// Issue 17: how many store round trips (DynamoDB requests) the token endpoint makes for an authorization
// code exchange and for a refresh, counted at the wire by a proxy in front of the embedded emulator
// (test/support/aws-proxy.ts). BENCHMARKS.md reports these numbers; the test pins them, so a change that
// adds a round trip to the token path shows up here.
import t from 'tap'
import * as oauth from 'oauth4webapi'
import { authorize, exchangeCode, registerClient, startHarness } from '../support/oauth-harness.ts'
import { startTestStore } from '../support/store.ts'
import { startAwsProxy } from '../support/aws-proxy.ts'
import { DynamoStore } from '../../src/store/dynamo-store.ts'
import { createDynamoClient } from '../../src/store/dynamo-client.ts'
import { SYSTEM_CLOCK } from '../../src/ports/clock.ts'

const backing = await startTestStore(t)
const proxy = await startAwsProxy(backing.endpoint)
t.teardown(() => proxy.close())
const client = createDynamoClient({ region: 'us-east-1', endpoint: proxy.endpoint, timeoutMs: 3000 })
t.teardown(() => client.destroy())
const store = { ...backing, store: new DynamoStore({ client, table: backing.table, clock: SYSTEM_CLOCK, timeoutMs: 3000 }) }

/** The operations the proxy saw while `run` ran, in order. */
async function operations (run: () => Promise<unknown>): Promise<string[]> {
  const before = proxy.requests.length
  await run()
  return proxy.requests.slice(before).map(r => r.operation)
}

t.test('store round trips of POST /token: authorization_code and refresh_token', async t => {
  const h = await startHarness(t, { store })
  const registered = await registerClient(h)
  const result = await authorize(h, registered.client)
  let tokens: oauth.TokenEndpointResponse | undefined
  const exchange = await operations(async () => { tokens = await exchangeCode(h, registered, result) })
  t.comment(`code exchange: ${exchange.length} round trips: ${exchange.join(', ')}`)
  t.same(exchange, ['GetItem', 'GetItem', 'UpdateItem', 'PutItem', 'PutItem', 'UpdateItem'], 'client, code, consume the code, grant, refresh token, extend the client')

  const refresh = await operations(async () => {
    const response = await oauth.refreshTokenGrantRequest(h.as, registered.client, registered.auth, tokens!.refresh_token!, h.options)
    await oauth.processRefreshTokenResponse(h.as, registered.client, response)
  })
  t.comment(`refresh: ${refresh.length} round trips: ${refresh.join(', ')}`)
  t.same(refresh, ['GetItem', 'GetItem', 'GetItem', 'UpdateItem', 'PutItem', 'UpdateItem'], 'client, refresh token, grant, mark used, new refresh token, touch the grant')
})
