// Bundle-time replacement for `asn1.js` (with bn.js, ≈ 67 KB minified), which fast-jwt uses only to read the
// algorithm OIDs at the start of a PEM key (src/crypto.js: PublicKey, PrivateKey and ECPrivateKey). This is
// the subset of asn1.js's `define` API those three definitions use — seq/obj, key, int, objid, octstr,
// optional, explicit, choice — over a strict DER reader, returning the same shapes (objid: array of numbers;
// choice: { type, value }; int: a number or, past 2^53, a bigint — fast-jwt never reads it). A sequence
// may hold more elements than the definition names (asn1.js ignores them too). Any mismatch throws, as
// asn1.js does; fast-jwt wraps either error into the same TokenError.
'use strict'

function readTlv (buf, pos) {
  if (pos + 2 > buf.length) throw new Error('Failed to decode: unexpected end of input')
  const tag = buf[pos]
  let len = buf[pos + 1]
  let start = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || start + n > buf.length) throw new Error('Failed to decode: bad length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]
    start += n
  }
  if (start + len > buf.length) throw new Error('Failed to decode: length past end of input')
  return { tag, start, end: start + len }
}

function decodeOid (bytes) {
  const out = []
  let value = 0
  for (let i = 0; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f)
    if ((bytes[i] & 0x80) === 0) { out.push(value); value = 0 }
  }
  if (bytes.length === 0 || (bytes[bytes.length - 1] & 0x80) !== 0) throw new Error('Failed to decode objid')
  const first = out.shift()
  return first < 40 ? [0, first, ...out] : first < 80 ? [1, first - 40, ...out] : [2, first - 80, ...out]
}

class Node {
  constructor () { this._key = undefined; this._kind = undefined; this._children = undefined; this._choices = undefined; this._optional = false; this._explicit = undefined }
  key (name) { const n = new Node(); n._key = name; return n }
  seq () { this._kind = 'seq'; return this }
  obj (...children) { this._children = children; return this }
  int () { this._kind = 'int'; return this }
  objid () { this._kind = 'objid'; return this }
  octstr () { this._kind = 'octstr'; return this }
  optional () { this._optional = true; return this }
  explicit (n) { this._explicit = n; return this }
  choice (choices) { this._kind = 'choice'; this._choices = choices; return this }

  /** Decodes the element at pos; returns [value, next position], or undefined when an optional one is absent. */
  _decode (buf, pos, end) {
    if (this._explicit !== undefined) {
      if (pos >= end || buf[pos] !== (0xa0 | this._explicit)) {
        if (this._optional) return undefined
        throw new Error(`Failed to match tag: "explicit ${this._explicit}"`)
      }
      const outer = readTlv(buf, pos)
      const inner = this._decodeBare(buf, outer.start, outer.end, false)
      return [inner[0], outer.end]
    }
    return this._decodeBare(buf, pos, end, this._optional)
  }

  _decodeBare (buf, pos, end, optional) {
    if (this._kind === 'choice') {
      for (const [type, node] of Object.entries(this._choices)) {
        const r = node._decodeBare(buf, pos, end, true)
        if (r !== undefined) return [{ type, value: r[0] }, r[1]]
      }
      if (optional) return undefined
      throw new Error('Failed to match choice')
    }
    const expected = { seq: 0x30, int: 0x02, objid: 0x06, octstr: 0x04 }[this._kind]
    if (pos >= end || buf[pos] !== expected) {
      if (optional) return undefined
      throw new Error(`Failed to match tag: "${this._kind}"`)
    }
    const tlv = readTlv(buf, pos)
    if (tlv.end > end) throw new Error('Failed to decode: element past its container')
    const body = buf.subarray(tlv.start, tlv.end)
    switch (this._kind) {
      case 'int': {
        let v = 0n
        for (const b of body) v = v * 256n + BigInt(b)
        return [v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v, tlv.end]
      }
      case 'objid': return [decodeOid(body), tlv.end]
      case 'octstr': return [Buffer.from(body), tlv.end]
      default: {
        const value = {}
        let p = tlv.start
        for (const child of this._children) {
          const r = child._decode(buf, p, tlv.end)
          if (r === undefined) continue
          value[child._key] = r[0]
          p = r[1]
        }
        return [value, tlv.end]
      }
    }
  }
}

function fromPem (text, label) {
  const lines = String(text).split(/\r?\n/)
  const begin = lines.findIndex(l => l.trim() === `-----BEGIN ${label}-----`)
  const end = lines.findIndex((l, i) => i > begin && l.trim() === `-----END ${label}-----`)
  if (begin === -1 || end === -1) throw new Error('PEM section not found for: ' + label)
  return Buffer.from(lines.slice(begin + 1, end).join('').replace(/[^a-z0-9+/=]+/gi, ''), 'base64')
}

exports.define = function define (name, body) {
  // As in asn1.js, a method called on the definition's `this` starts a new node; the top-level one is the
  // first sequence started there (the definitions' `this.seq().obj(…)`).
  let root
  const builder = {}
  for (const method of ['key', 'seq', 'int', 'objid', 'octstr', 'optional', 'explicit', 'choice']) {
    builder[method] = (...args) => {
      const node = method === 'key' ? Node.prototype.key(args[0]) : new Node()[method](...args)
      if (root === undefined && method === 'seq') root = node
      return node
    }
  }
  body.call(builder)
  if (root === undefined) throw new Error(`asn1 shim: ${name} defines no top-level sequence`)
  return {
    name,
    decode (data, encoding, options) {
      const buf = encoding === 'pem' ? fromPem(data, options?.label ?? 'PRIVATE KEY') : Buffer.from(data)
      return root._decode(buf, 0, buf.length)[0]
    }
  }
}
