// The dataset the sample MCP tools read and write. The DynamoDB adapter (src/store) implements it.

/** One row of the sample enterprise dataset that query_data reads and add_record writes. */
export interface DatasetRecord {
  id: string
  /** Groups allowed to see the row; empty = every signed-in user. */
  visibleTo: string[]
  title: string
  category: string
  value: number
  createdBy: string
  createdAt: number
}

export interface DatasetStore {
  /** Fails with StoreConflictError when a record with this id exists. */
  putDatasetRecord (record: DatasetRecord): Promise<void>
  listDatasetRecords (): Promise<DatasetRecord[]>
}
