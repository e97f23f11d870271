import type { Kysely } from 'kysely'
import type { SystemMigration } from '../db/index.js'

export const FILES_TABLE = '_files'

/**
 * One row per file a record holds, written in the record's own transaction: a file
 * without a row belongs to no record and is removed by the cleanup job. Sizes are
 * bigint: one file may pass 2 GiB.
 */
export const filesMigration: SystemMigration = {
  name: '0080_files',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(FILES_TABLE)
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('field_id', 'text', (c) => c.notNull())
      .addColumn('original_name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('_files_pkey', ['collection_id', 'name'])
      .execute()
    await db.schema
      .createIndex('_files_by_record')
      .on(FILES_TABLE)
      .columns(['collection_id', 'record_id'])
      .execute()
  },
}
