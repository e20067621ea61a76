// The sample enterprise dataset behind query_data and add_record. Seeding is idempotent: every row is a
// conditional put, so two cold starts (or a start and `scripts/seed-data.ts`) racing each other are harmless.
import type { Clock } from '../ports/clock.ts'
import { StoreConflictError } from '../ports/store.ts'
import type { DatasetRecord, DatasetStore } from '../ports/dataset.ts'

type SampleRow = Omit<DatasetRecord, 'createdBy' | 'createdAt'>

export const SAMPLE_ROWS: readonly SampleRow[] = [
  { id: 'kb-001', title: 'Expense policy 2025', category: 'policy', value: 1, visibleTo: [] },
  { id: 'kb-002', title: 'Travel booking guide', category: 'policy', value: 2, visibleTo: [] },
  { id: 'kb-003', title: 'Office opening hours', category: 'facilities', value: 3, visibleTo: [] },
  { id: 'eng-001', title: 'Deploy runbook for the billing service', category: 'engineering', value: 42, visibleTo: ['engineering'] },
  { id: 'eng-002', title: 'On-call rotation Q3', category: 'engineering', value: 7, visibleTo: ['engineering'] },
  { id: 'fin-001', title: 'Quarterly revenue forecast', category: 'finance', value: 1250000, visibleTo: ['finance', 'admins'] },
  { id: 'fin-002', title: 'Vendor payment terms', category: 'finance', value: 30, visibleTo: ['finance'] },
  { id: 'adm-001', title: 'Access review findings', category: 'security', value: 5, visibleTo: ['admins'] }
]

/** Writes the sample rows that are missing; returns how many it wrote. */
export async function seedDataset (store: DatasetStore, clock: Clock): Promise<number> {
  let written = 0
  for (const row of SAMPLE_ROWS) {
    try {
      await store.putDatasetRecord({ ...row, visibleTo: [...row.visibleTo], createdBy: 'seed', createdAt: clock.now() })
      written++
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error
    }
  }
  return written
}

/** At app start: seeds only an empty dataset, so rows an operator removed are not brought back. */
export async function seedDatasetIfEmpty (store: DatasetStore, clock: Clock): Promise<number> {
  const existing = await store.listDatasetRecords()
  return existing.length === 0 ? await seedDataset(store, clock) : 0
}
