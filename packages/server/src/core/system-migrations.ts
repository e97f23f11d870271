import type { Kysely } from 'kysely'
import {
  AUDIT_TABLE,
  apiKeysMigration,
  emailTokensMigration,
  KEYS_TABLE,
  mfaMigration,
  oauth2Migration,
  REFRESH_TOKENS_TABLE,
  SESSIONS_TABLE,
  SETUP_TOKENS_TABLE,
  SIGN_IN_FAILURES_TABLE,
  superusersDefinition,
} from '../auth/index.js'
import { sharedCountersMigration } from '../cluster/index.js'
import {
  COLLECTIONS_TABLE,
  CollectionRegistry,
  CollectionService,
  MIGRATIONS_TABLE,
  SCHEMA_VERSION_TABLE,
} from '../collections/index.js'
import type { Dialect, SystemMigration } from '../db/index.js'
import {
  deliveriesTraceMigration,
  eventsMigration,
  eventsTraceMigration,
  webhooksCatchUpMigration,
  webhooksMigration,
  webhooksPausedMigration,
} from '../events/index.js'
import { filesMigration } from '../files/index.js'
import { IDEMPOTENCY_TABLE } from '../idempotency/index.js'
import { jobsMigration, jobsTraceMigration } from '../jobs/index.js'
import { requestLogsMigration } from '../logs/index.js'

/**
 * Plinth's own tables, step by step, in one explicit list. Released steps are
 * never edited; a change is a new step at the end.
 */
export function systemMigrations(): SystemMigration[] {
  return [
    {
      name: '0001_collections',
      async up(db: Kysely<any>) {
        await db.schema
          .createTable(COLLECTIONS_TABLE)
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('definition', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('updated', 'text', (c) => c.notNull())
          .execute()
        await db.schema
          .createTable(MIGRATIONS_TABLE)
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('seq', 'integer', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('up', 'text', (c) => c.notNull())
          .addColumn('down', 'text', (c) => c.notNull())
          .addColumn('applied', 'text', (c) => c.notNull())
          .addColumn('reverted', 'text')
          .execute()
      },
    },
    {
      name: '0002_auth',
      async up(db: Kysely<any>, dialect: Dialect) {
        await db.schema
          .createTable(KEYS_TABLE)
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('private_sealed', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('retired', 'text')
          .execute()
        await db.schema
          .createTable(SESSIONS_TABLE)
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('collection_id', 'text', (c) => c.notNull())
          .addColumn('record_id', 'text', (c) => c.notNull())
          .addColumn('created', 'text', (c) => c.notNull())
          .addColumn('last_used', 'text', (c) => c.notNull())
          .addColumn('expires', 'text', (c) => c.notNull())
          .addColumn('revoked', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('ip', 'text')
          .addColumn('impersonated_by', 'text')
          .execute()
        await db.schema
          .createIndex('_sessions_by_record')
          .on(SESSIONS_TABLE)
          .columns(['collection_id', 'record_id'])
          .execute()
        await db.schema
          .createTable(REFRESH_TOKENS_TABLE)
          .addColumn('hash', 'text', (c) => c.primaryKey())
          .addColumn('session_id', 'text', (c) =>
            c.notNull().references(`${SESSIONS_TABLE}.id`).onDelete('cascade'),
          )
          .addColumn('used', 'text')
          .addColumn('created', 'text', (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('_refresh_tokens_by_session')
          .on(REFRESH_TOKENS_TABLE)
          .column('session_id')
          .execute()
        await db.schema
          .createTable(SIGN_IN_FAILURES_TABLE)
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('identity', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('_sign_in_failures_by_identity')
          .on(SIGN_IN_FAILURES_TABLE)
          .columns(['identity', 'at'])
          .execute()
        await db.schema
          .createTable(AUDIT_TABLE)
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('collection_id', 'text')
          .addColumn('record_id', 'text')
          .addColumn('actor', 'text')
          .addColumn('ip', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute()
        await db.schema.createIndex('_audit_by_at').on(AUDIT_TABLE).column('at').execute()
        await db.schema
          .createTable(SETUP_TOKENS_TABLE)
          .addColumn('hash', 'text', (c) => c.primaryKey())
          .addColumn('expires', 'text', (c) => c.notNull())
          .execute()
        // A service of its own: the step runs before the collections are loaded, and inside a restore's transaction.
        await new CollectionService(dialect, new CollectionRegistry()).createSystem(
          db,
          superusersDefinition(new Date().toISOString()),
        )
      },
    },
    {
      name: '0003_idempotency',
      async up(db: Kysely<any>) {
        await db.schema
          .createTable(IDEMPOTENCY_TABLE)
          .addColumn('scope', 'text', (c) => c.primaryKey())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created', 'bigint', (c) => c.notNull())
          .execute()
        await db.schema
          .createIndex('_idempotency_by_created')
          .on(IDEMPOTENCY_TABLE)
          .column('created')
          .execute()
      },
    },
    oauth2Migration,
    apiKeysMigration,
    mfaMigration,
    emailTokensMigration,
    {
      name: '0050_sign_in_failures_by_collection',
      // Counters name their collection, so they go when it is deleted; older rows expire within 15 minutes.
      async up(db: Kysely<any>) {
        await db.schema.alterTable(SIGN_IN_FAILURES_TABLE).addColumn('collection_id', 'text').execute()
      },
    },
    {
      name: '0051_schema_version',
      // Each node polls this counter to learn collection changes made by the CLI or another node.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable(SCHEMA_VERSION_TABLE)
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute()
        await db.insertInto(SCHEMA_VERSION_TABLE).values({ id: 1, version: 0 }).execute()
      },
    },
    jobsMigration,
    eventsMigration,
    webhooksMigration,
    filesMigration,
    sharedCountersMigration,
    requestLogsMigration,
    jobsTraceMigration,
    eventsTraceMigration,
    deliveriesTraceMigration,
    webhooksPausedMigration,
    webhooksCatchUpMigration,
  ]
}
