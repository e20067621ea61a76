// One list of loopback hosts for the redirect-URI rules, the development upstream and the store endpoint.
import t from 'tap'
import { LOOPBACK_HOSTS, isLoopbackHost, isLoopbackHttpUrl } from '../src/loopback.ts'
import { isLoopbackEndpoint } from '../src/store/dynamo-client.ts'

t.test('RFC 8252 §7.3 loopback hosts, as URL#hostname spells them', async t => {
  t.same([...LOOPBACK_HOSTS].sort(), ['127.0.0.1', '[::1]', 'localhost'])
  for (const host of ['127.0.0.1', '[::1]', 'localhost']) t.ok(isLoopbackHost(host), host)
  for (const host of ['::1', '127.0.0.2', 'localhost.example', '0.0.0.0', '']) t.notOk(isLoopbackHost(host), host)
})

t.test('an http URL on a loopback host; https, other hosts and unparsable input are not', async t => {
  for (const url of ['http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'http://localhost:3000', 'http://LOCALHOST/cb']) {
    t.ok(isLoopbackHttpUrl(url), url)
  }
  for (const url of ['https://127.0.0.1/cb', 'http://127.0.0.2/cb', 'http://example.com', 'http://127.0.0.1:99999/cb', 'not a url', '']) {
    t.notOk(isLoopbackHttpUrl(url), url)
  }
})

t.test('a store endpoint on any 127/8 address or a loopback name gets local credentials', async t => {
  for (const endpoint of ['http://127.0.0.1:8000', 'http://127.1.2.3:4566', 'http://[::1]:8000', 'http://localhost:4566']) t.ok(isLoopbackEndpoint(endpoint), endpoint)
  for (const endpoint of ['https://dynamodb.eu-west-1.amazonaws.com', 'http://10.0.0.1:8000', 'http://128.0.0.1']) t.notOk(isLoopbackEndpoint(endpoint), endpoint)
})
