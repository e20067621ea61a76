// Plain records ⇄ DynamoDB attribute values. @aws-sdk/util-dynamodb is not installed, and the records
// hold only strings, numbers, booleans, arrays and plain objects, so a small codec is enough.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'

export type Item = Record<string, AttributeValue>

export function toAttribute (value: unknown): AttributeValue | undefined {
  if (value === undefined) return undefined
  if (value === null) return { NULL: true }
  if (typeof value === 'string') return { S: value }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot store non-finite number ${value}`)
    return { N: String(value) }
  }
  if (typeof value === 'boolean') return { BOOL: value }
  if (Array.isArray(value)) {
    // undefined inside a list would shift indexes; JSON turns it into null, and so do we.
    return { L: value.map(v => toAttribute(v) ?? { NULL: true }) }
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return { M: toItem(value as Record<string, unknown>) }
  }
  throw new TypeError(`cannot store a value of type ${typeof value}`)
}

/** Absent (undefined) fields are left out, so optional fields round-trip as absent. */
export function toItem (record: Record<string, unknown>): Item {
  const item: Item = {}
  for (const [name, value] of Object.entries(record)) {
    const attribute = toAttribute(value)
    if (attribute !== undefined) item[name] = attribute
  }
  return item
}

export function fromAttribute (attribute: AttributeValue): unknown {
  if (attribute.S !== undefined) return attribute.S
  if (attribute.N !== undefined) return Number(attribute.N)
  if (attribute.BOOL !== undefined) return attribute.BOOL
  if (attribute.NULL !== undefined) return null
  if (attribute.L !== undefined) return attribute.L.map(fromAttribute)
  if (attribute.M !== undefined) return fromItem(attribute.M)
  if (attribute.SS !== undefined) return [...attribute.SS]
  if (attribute.NS !== undefined) return attribute.NS.map(Number)
  throw new TypeError(`unsupported attribute type ${Object.keys(attribute).join(',')}`)
}

export function fromItem (item: Item): Record<string, unknown> {
  const record: Record<string, unknown> = {}
  for (const [name, attribute] of Object.entries(item)) record[name] = fromAttribute(attribute)
  return record
}
