/** Flips one bit in field `index` of a sealed value (fields are base64url), keeping it well formed. */
export function flipBit (sealed: string, index: number, byte = 0): string {
  const fields = sealed.split('.')
  const bytes = Buffer.from(fields[index]!, 'base64url')
  if (bytes.length === 0) throw new Error('empty field')
  bytes[byte % bytes.length]! ^= 0x01
  fields[index] = bytes.toString('base64url')
  return fields.join('.')
}

export const FIELD = { version: 0, keyRef: 1, iv: 2, ciphertext: 3, tag: 4 } as const
