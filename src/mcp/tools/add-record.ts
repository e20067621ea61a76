// add_record: writes a row to the dataset. Needs the mcp:write scope and the `admins` group; the input is
// validated by its schema (ids, lengths, groups) and the write is conditional, so an id is never overwritten.
import * as Type from 'typebox'
import { StoreConflictError } from '../../ports/store.ts'
import { defineTool, jsonResult, toolError } from './types.ts'

export default defineTool({
  name: 'add_record',
  title: 'Add record',
  description: 'Adds a row to the enterprise dataset (admins only). Fails if a row with that id exists.',
  inputSchema: Type.Object({
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'lowercase letters, digits and dashes' }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    category: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }),
    value: Type.Number({ minimum: -1e12, maximum: 1e12 }),
    visible_to: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), { maxItems: 10, uniqueItems: true, description: 'groups that may see the row; omit or empty = everyone' }))
  }, { additionalProperties: false }),
  scope: 'mcp:write',
  groups: ['admins'],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: async (input, { caller, deps }) => {
    const record = {
      id: input.id,
      title: input.title,
      category: input.category,
      value: input.value,
      visibleTo: input.visible_to ?? [],
      createdBy: caller.sub,
      createdAt: deps.clock.now()
    }
    try {
      await deps.dataset.putDatasetRecord(record)
    } catch (error) {
      if (error instanceof StoreConflictError) return toolError(`a record with id "${input.id}" already exists`)
      throw error
    }
    return jsonResult({ created: { id: record.id, title: record.title, category: record.category, value: record.value, visible_to: record.visibleTo } })
  }
})
