import type { Kysely } from 'kysely'
import type { SystemMigration } from '../../db/index.js'

export const WEBHOOKS_TABLE = '_webhooks'
export const DELIVERIES_TABLE = '_webhook_deliveries'

/**
 * Endpoints and their deliveries. Times are ms since the epoch, bound by Plinth, as in
 * the jobs tables. A delivery is unique per (endpoint, event), so the fan-out may be
 * repeated after a crash without sending anything twice.
 */
/** The trace of the event each delivery carries (`traceparent` header), null when untraced. */
export const deliveriesTraceMigration: SystemMigration = {
  name: '0112_webhook_deliveries_trace_parent',
  async up(db: Kysely<any>) {
    await db.schema.alterTable(DELIVERIES_TABLE).addColumn('trace_parent', 'text').execute()
  },
}

/**
 * An endpoint a superuser paused by hand (1) keeps collecting deliveries but sends none,
 * whatever its circuit says, until it is resumed. Existing endpoints stay as they were.
 */
export const webhooksPausedMigration: SystemMigration = {
  name: '0113_webhooks_paused',
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable(WEBHOOKS_TABLE)
      .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
      .execute()
  },
}

/**
 * The newest event settled when the endpoint was made. The fan-out goes by events unread while
 * it knows of no endpoint; the first fan-out that sees this endpoint hands it those after this
 * number, then clears it. Existing endpoints have nothing to catch up (null).
 */
export const webhooksCatchUpMigration: SystemMigration = {
  name: '0114_webhooks_catch_up',
  async up(db: Kysely<any>) {
    await db.schema.alterTable(WEBHOOKS_TABLE).addColumn('catch_up_after', 'bigint').execute()
  },
}

export const webhooksMigration: SystemMigration = {
  name: '0071_webhooks',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(WEBHOOKS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('collections', 'text', (c) => c.notNull())
      .addColumn('actions', 'text', (c) => c.notNull())
      .addColumn('filter', 'text')
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('paused_until', 'bigint')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema
      .createTable(DELIVERIES_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_seq', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('collection', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'bigint')
      .addColumn('response_status', 'integer')
      .addColumn('duration_ms', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .addColumn('finished', 'bigint')
      .execute()
    await db.schema
      .createIndex('_webhook_deliveries_once')
      .on(DELIVERIES_TABLE)
      .columns(['webhook_id', 'event_id'])
      .unique()
      .execute()
    await db.schema
      .createIndex('_webhook_deliveries_due')
      .on(DELIVERIES_TABLE)
      .columns(['webhook_id', 'state', 'next_at'])
      .execute()
    // The order check looks for an earlier unfinished delivery of the same record.
    await db.schema
      .createIndex('_webhook_deliveries_by_record')
      .on(DELIVERIES_TABLE)
      .columns(['webhook_id', 'collection', 'record_id', 'event_seq'])
      .execute()
    await db.schema
      .createIndex('_webhook_deliveries_by_created')
      .on(DELIVERIES_TABLE)
      .columns(['webhook_id', 'created'])
      .execute()
  },
}
