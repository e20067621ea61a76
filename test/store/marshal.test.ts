import t from 'tap'
import { fromItem, toItem } from '../../src/store/marshal.ts'

t.test('nested maps, lists, booleans, null and numbers survive a round-trip; undefined fields are left out', async t => {
  const record = { a: 'x', n: -1.25, big: 1_750_000_000, yes: true, none: null, list: ['a', 1, { deep: ['b'] }], map: { k: 'v', empty: [] }, gone: undefined }
  const item = toItem(record)
  t.notOk('gone' in item)
  t.strictSame(item.list, { L: [{ S: 'a' }, { N: '1' }, { M: { deep: { L: [{ S: 'b' }] } } }] })
  const { gone: _gone, ...expected } = record
  t.strictSame(fromItem(item), expected)
})

t.test('values DynamoDB cannot hold faithfully are refused, not silently changed', async t => {
  t.throws(() => toItem({ n: Number.NaN }), TypeError)
  t.throws(() => toItem({ n: Infinity }), TypeError)
  t.throws(() => toItem({ d: new Date() }), TypeError)
  t.throws(() => toItem({ b: 10n }), TypeError)
})
