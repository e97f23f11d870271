import type { Kysely } from 'kysely'
import type { Dialect, SystemMigration } from '../db/index.js'

export const REQUEST_LOGS_TABLE = '_request_logs'

/**
 * One row per kept request. Columns are named as the filter language names them, so a
 * filter compiles against them as against a collection's. `minute` (minutes since the
 * epoch) groups rows for the stats without date functions that differ between databases.
 */
export const requestLogsMigration: SystemMigration = {
  name: '0100_request_logs',
  async up(db: Kysely<any>, dialect: Dialect) {
    const number = dialect.columnType('number')
    await db.schema
      .createTable(REQUEST_LOGS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created', dialect.columnType('timestamp'), (c) => c.notNull())
      .addColumn('minute', 'bigint', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('route', 'text')
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('status', number, (c) => c.notNull())
      .addColumn('duration', number, (c) => c.notNull())
      .addColumn('authId', 'text')
      .addColumn('authCollection', 'text')
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('userAgent', 'text', (c) => c.notNull())
      .addColumn('requestId', 'text', (c) => c.notNull())
      .addColumn('nodeId', 'text', (c) => c.notNull())
      .addColumn('sampleRate', number, (c) => c.notNull())
      .execute()
    await db.schema.createIndex('_request_logs_by_created').on(REQUEST_LOGS_TABLE).column('created').execute()
    await db.schema.createIndex('_request_logs_by_minute').on(REQUEST_LOGS_TABLE).column('minute').execute()
  },
}
