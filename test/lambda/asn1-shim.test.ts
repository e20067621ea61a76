// scripts/shims/asn1.cjs stands in for asn1.js in the Lambda bundle (fast-jwt reads key algorithm OIDs with
// it). Same three definitions as fast-jwt's src/crypto.js, decoded by both, over every key type Node can
// make and some malformed input: same structures (the integer `version` aside, which fast-jwt never reads:
// asn1.js gives a BN), and both throw on the same inputs.
import t from 'tap'
import { createRequire } from 'node:module'
import { generateKeyPairSync } from 'node:crypto'

const require = createRequire(import.meta.url)
interface Asn1 { define: (name: string, body: (this: any) => void) => { decode: (data: string, enc: string, opts: { label: string }) => unknown } }
const real = require('asn1.js') as Asn1
const shim = require('../../scripts/shims/asn1.cjs') as Asn1

function definitions (asn: Asn1): Record<string, ReturnType<Asn1['define']>> {
  return {
    PrivateKey: asn.define('PrivateKey', function () { this.seq().obj(this.key('version').int(), this.key('algorithm').seq().obj(this.key('algorithm').objid(), this.key('parameters').optional().objid())) }),
    PublicKey: asn.define('PublicKey', function () { this.seq().obj(this.key('algorithm').seq().obj(this.key('algorithm').objid(), this.key('parameters').optional().objid())) }),
    ECPrivateKey: asn.define('ECPrivateKey', function () { this.seq().obj(this.key('version').int(), this.key('privateKey').octstr(), this.key('parameters').explicit(0).optional().choice({ namedCurve: this.objid() })) })
  }
}

const view = (decoded: unknown): string => JSON.stringify(decoded, (key, value: unknown) =>
  key === 'version' ? String(typeof value === 'object' && value !== null ? parseInt(String(value), 16) : value) : Buffer.isBuffer(value) ? value.toString('hex') : value)

t.test('the shim decodes what asn1.js decodes, and refuses what it refuses', async t => {
  const R = definitions(real)
  const S = definitions(shim)
  const cases: Array<[string, string, string]> = []
  const types: Array<[string, Record<string, unknown>]> = [['rsa', { modulusLength: 1024 }], ['rsa-pss', { modulusLength: 1024 }], ['ec', { namedCurve: 'P-256' }], ['ec', { namedCurve: 'P-384' }], ['ec', { namedCurve: 'P-521' }], ['ec', { namedCurve: 'secp256k1' }], ['ec', { namedCurve: 'brainpoolP256r1' }], ['ed25519', {}], ['ed448', {}], ['x25519', {}], ['x448', {}], ['dsa', { modulusLength: 1024, divisorLength: 160 }]]
  for (const [type, options] of types) {
    const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number })
    cases.push(['PublicKey', publicKey.export({ type: 'spki', format: 'pem' }) as string, 'PUBLIC KEY'])
    cases.push(['PrivateKey', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'PRIVATE KEY'])
    if (type === 'ec') cases.push(['ECPrivateKey', privateKey.export({ type: 'sec1', format: 'pem' }) as string, 'EC PRIVATE KEY'])
  }
  const rsa = cases[0]![1]
  cases.push(['PrivateKey', rsa, 'PRIVATE KEY'], ['PublicKey', rsa.replace(/PUBLIC KEY/g, 'PRIVATE KEY'), 'PUBLIC KEY'])
  cases.push(['PublicKey', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'PUBLIC KEY'], ['PublicKey', 'not a pem', 'PUBLIC KEY'])
  cases.push(['ECPrivateKey', '-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n-----END EC PRIVATE KEY-----', 'EC PRIVATE KEY'])
  cases.push(['PublicKey', '-----BEGIN PUBLIC KEY-----\nMAUwAwYBKg==\n-----END PUBLIC KEY-----', 'PUBLIC KEY'])
  for (const [name, pem, label] of cases) {
    const run = (defs: typeof R): string => { try { return view(defs[name]!.decode(pem, 'pem', { label })) } catch { return 'throws' } }
    t.equal(run(S), run(R), `${name} ${pem.slice(0, 40).replace(/\n/g, ' ')}…`)
  }
})
