import t from 'tap'
import { addressKey } from '../../src/plugins/rate-limits.ts'

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
