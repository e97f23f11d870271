import type { Kysely } from 'kysely'
import type { SystemMigration } from '../../db/index.js'
import { AUTH_TOKENS_TABLE } from './auth-tokens.js'

/** Hashed single-use tokens of verification, password reset, email change and one-time codes. */
export const emailTokensMigration: SystemMigration = {
  name: '0010_auth_email_tokens',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(AUTH_TOKENS_TABLE)
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .addColumn('expires', 'text', (c) => c.notNull())
      .addColumn('used', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute()
    await db.schema
      .createIndex('_auth_tokens_by_record')
      .on(AUTH_TOKENS_TABLE)
      .columns(['collection_id', 'record_id', 'purpose'])
      .execute()
    await db.schema.createIndex('_auth_tokens_by_expires').on(AUTH_TOKENS_TABLE).column('expires').execute()
  },
}
