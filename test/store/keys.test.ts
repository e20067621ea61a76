// The key schema is a contract (docs/storage-schema.md): changing a pattern orphans every stored item.
import t from 'tap'
import {
  clientKey, codeKey, consentKey, datasetPartition, datasetRowKey, grantKey, refreshTokenKey, streamEventKey, transactionKey
} from '../../src/store/keys.ts'

t.test('every item kind has the documented pk/sk pattern', async t => {
  t.strictSame(clientKey('abc'), { pk: 'CLIENT#abc', sk: 'CLIENT#abc' })
  t.strictSame(transactionKey('t1'), { pk: 'TX#t1', sk: 'TX#t1' })
  t.strictSame(codeKey('f00d'), { pk: 'CODE#f00d', sk: 'CODE#f00d' })
  t.strictSame(grantKey('g1'), { pk: 'GRANT#g1', sk: 'GRANT#g1' })
  t.strictSame(refreshTokenKey('beef'), { pk: 'RT#beef', sk: 'RT#beef' })
  t.strictSame(consentKey('user-1', 'client-1'), { pk: 'CONSENT#user-1', sk: 'CLIENT#client-1' })
  t.equal(datasetPartition(), 'DATASET#sample')
  t.strictSame(datasetRowKey('r1'), { pk: 'DATASET#sample', sk: 'ROW#r1' })
  t.strictSame(streamEventKey('s1', 12), { pk: 'STREAM#s1', sk: 'EVENT#000012' })
})

t.test('an empty id is refused rather than addressing a shared item', async t => {
  t.throws(() => clientKey(''), TypeError)
  t.throws(() => codeKey(''), TypeError)
  t.throws(() => consentKey('user-1', ''), TypeError)
  t.throws(() => consentKey('', 'client-1'), TypeError)
  t.throws(() => datasetRowKey(''), TypeError)
  t.throws(() => streamEventKey('', 0), TypeError)
  for (const seq of [-1, 1.5, 1_000_000, Number.NaN]) t.throws(() => streamEventKey('s1', seq), TypeError, `seq ${seq}`)
})
