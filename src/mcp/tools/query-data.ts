// query_data: reads the sample enterprise dataset. Row-level security: a row is returned only when its
// `visibleTo` is empty or shares a group with the caller; the filter runs here, before anything is shaped.
import * as Type from 'typebox'
import type { DatasetRecord } from '../../ports/dataset.ts'
import { defineTool, jsonResult } from './types.ts'

const MAX_LIMIT = 100

export function visibleTo (record: DatasetRecord, groups: readonly string[]): boolean {
  return record.visibleTo.length === 0 || record.visibleTo.some(g => groups.includes(g))
}

export default defineTool({
  name: 'query_data',
  title: 'Query data',
  description: 'Lists rows of the enterprise dataset you are allowed to see, optionally filtered by category and a text match on the title.',
  inputSchema: Type.Object({
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'exact category, e.g. "finance"' })),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'case-insensitive substring of the title' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 20, description: `at most ${MAX_LIMIT}` }))
  }, { additionalProperties: false }),
  scope: 'mcp:read',
  groups: [],
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (input, { caller, deps }) => {
    const text = input.text?.toLowerCase()
    const rows = (await deps.dataset.listDatasetRecords())
      .filter(r => visibleTo(r, caller.groups))
      .filter(r => input.category === undefined || r.category === input.category)
      .filter(r => text === undefined || r.title.toLowerCase().includes(text))
      .sort((a, b) => a.id.localeCompare(b.id))
    const limit = input.limit ?? 20
    return jsonResult({
      rows: rows.slice(0, limit).map(r => ({ id: r.id, title: r.title, category: r.category, value: r.value, visible_to: r.visibleTo })),
      total: rows.length,
      truncated: rows.length > limit
    })
  }
})
