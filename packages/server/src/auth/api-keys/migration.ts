import type { Kysely } from 'kysely'
import type { SystemMigration } from '../../db/index.js'
import { API_KEYS_TABLE } from './api-keys.js'

/** The `_api_keys` table: one row per key, holding its hash and never the key. */
export const apiKeysMigration: SystemMigration = {
  name: '0040_auth_api_keys',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(API_KEYS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('prefix', 'text', (c) => c.notNull().unique())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .addColumn('expires', 'text', (c) => c.notNull())
      .addColumn('last_used', 'text')
      .addColumn('revoked', 'text')
      .execute()
    await db.schema
      .createIndex('_api_keys_by_record')
      .on(API_KEYS_TABLE)
      .columns(['collection_id', 'record_id'])
      .execute()
  },
}
