// The sample dataset the MCP tools read (query_data) and write (add_record): one partition, one item per row.
import type { DatasetRecord, DatasetStore } from '../../ports/dataset.ts'
import type { DynamoTable } from '../dynamo-table.ts'
import { KIND, datasetPartition, datasetRowKey, DATASET_ROW_PREFIX } from '../keys.ts'

export class DynamoDatasetStore implements DatasetStore {
  readonly #table: DynamoTable
  constructor (table: DynamoTable) { this.#table = table }

  async putDatasetRecord (record: DatasetRecord): Promise<void> {
    await this.#table.create(KIND.datasetRecord, datasetRowKey(record.id), record, `dataset record ${record.id} already exists`)
  }

  /** Strongly consistent: a row just added by add_record must show up in the next query_data. */
  async listDatasetRecords (): Promise<DatasetRecord[]> {
    return await this.#table.queryPrefix<DatasetRecord>('Query dataset', datasetPartition(), DATASET_ROW_PREFIX, { withExpiry: false })
  }
}
