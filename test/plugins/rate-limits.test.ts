import t from 'tap'
import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { addressKey, clientAddressKey, perAddressLimit } from '../../src/plugins/rate-limits.ts'
import { options } from '../../src/app.ts'

t.test('rate-limit keys: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 grouped by its /56 prefix', async t => {
  t.equal(addressKey('203.0.113.7'), '203.0.113.7')
  t.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7')
  t.equal(addressKey('::ffff:cb00:7107'), '203.0.113.7')
  t.equal(addressKey('2001:db8:1234:5678::1'), '2001:db8:1234:5600::/56')
  t.equal(addressKey('2001:db8:1234:56ff:aaaa:bbbb:cccc:dddd'), '2001:db8:1234:5600::/56', 'same /56, same key')
  t.not(addressKey('2001:db8:1234:5700::1'), addressKey('2001:db8:1234:5600::1'), 'another /56, another key')
  t.equal(addressKey('::1'), '0:0:0:0::/56')
  t.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/56')
  t.equal(addressKey('2001:DB8::1'), addressKey('2001:db8::2'), 'case and host part do not matter')
})

t.test('a limited route counts per /56 of the connection address; X-Forwarded-For changes nothing', async t => {
  t.equal((options as { trustProxy?: unknown }).trustProxy, undefined, 'the app trusts no proxy headers')
  const app = Fastify()
  await app.register(rateLimit, { global: false, keyGenerator: clientAddressKey })
  app.get('/limited', { config: perAddressLimit(2) }, async () => 'ok')
  t.teardown(() => app.close())
  const get = async (remoteAddress: string, headers: Record<string, string> = {}): Promise<number> =>
    (await app.inject({ method: 'GET', url: '/limited', remoteAddress, headers })).statusCode
  t.equal(await get('2001:db8:1234:5601::1'), 200)
  t.equal(await get('2001:db8:1234:56ff::2'), 200)
  t.equal(await get('2001:db8:1234:5642::3'), 429, 'a third address in the same /56 is over the limit')
  t.equal(await get('2001:db8:1234:5642::3', { 'x-forwarded-for': '198.51.100.9' }), 429, 'a claimed address does not help')
  t.equal(await get('2001:db8:1234:5700::1'), 200, 'the next /56 has its own budget')
  t.equal(await get('192.0.2.1'), 200)
})
