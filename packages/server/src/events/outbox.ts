import { type Kysely, sql } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import { newId } from '../crypto/index.js'
import { type Dialect, StatementShapes, type SystemMigration } from '../db/index.js'
import type { Caller } from '../identity/index.js'
import type { ChangeUnit, RecordChange, RecordData } from '../records/index.js'
import { currentTraceparent } from '../telemetry/index.js'
import { type EventActor, type EventType, type PlinthEvent, type StoredEvent, typeOf } from './types.js'

export const EVENTS_TABLE = '_events'
export const EVENT_CURSORS_TABLE = '_event_cursors'

/**
 * `seq` numbers events in commit order (see `Dialect.commitOrder`), so a consumer
 * that has read up to N never sees an event below N appear later. Times are ms since
 * the epoch, bound by Plinth, as in the jobs tables. `id` (a UUIDv7) has no index:
 * nothing looks events up by it, and each index is one more B-tree write per change.
 */
export const eventsMigration: SystemMigration = {
  name: '0070_events',
  async up(db: Kysely<any>, dialect: Dialect) {
    await dialect
      .addSerialColumn(db.schema.createTable(EVENTS_TABLE), 'seq')
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('collection', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('record', 'text', (c) => c.notNull())
      .addColumn('previous', 'text')
      .addColumn('hidden', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .execute()
    await db.schema.createIndex('_events_by_time').on(EVENTS_TABLE).column('time').execute()
    await db.schema
      .createTable(EVENT_CURSORS_TABLE)
      .addColumn('consumer', 'text', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('lease_until', 'bigint', (c) => c.notNull())
      .execute()
  },
}

/**
 * The W3C `traceparent` of the request that made a change, so what the outbox delivers later
 * (webhooks, broker messages) continues its trace; null when nothing was traced.
 */
export const eventsTraceMigration: SystemMigration = {
  name: '0111_events_trace_parent',
  async up(db: Kysely<any>) {
    await db.schema.alterTable(EVENTS_TABLE).addColumn('trace_parent', 'text').execute()
  },
}

interface EventRow {
  seq: number | string
  id: string
  action: 'create' | 'update' | 'delete'
  collection: string
  record_id: string
  record: string
  previous: string | null
  hidden: string | null
  actor: string
  time: number | string
  trace_parent: string | null
}

/**
 * Writes each record change to the outbox inside the change's transaction: the event
 * exists exactly when the change does. The insert reads the dialect's commit-order source,
 * so the number it draws grows in commit order; the order is held only from the first
 * event to the commit, and costs no statement of its own. The number goes to the unit, so
 * that after the commit this node knows every event up to it is settled without reading.
 */
export function outboxListener(dialect: Dialect) {
  const statements = new StatementShapes()
  return async function writeEvent(trx: Kysely<any>, change: RecordChange, unit: ChangeUnit): Promise<void> {
    const { collection } = change
    const record = withoutHidden(collection, change.record)
    const previous =
      change.action === 'create' || !change.previous ? null : withoutHidden(collection, change.previous)
    const row = {
      id: newId(),
      action: change.action,
      collection: collection.name,
      record_id: String(change.record.id),
      record: JSON.stringify(record.shown),
      previous: previous ? JSON.stringify(previous.shown) : null,
      hidden: record.hasHidden
        ? JSON.stringify({ record: record.hidden, previous: previous?.hidden ?? null })
        : null,
      actor: JSON.stringify(actorOf(change.caller)),
      time: Date.now(),
      trace_parent: currentTraceparent(),
    }
    const written = await trx.executeQuery<{ seq: number | string }>(
      statements.compile('insert', Object.values(row), () =>
        trx
          .insertInto(EVENTS_TABLE)
          .columns(Object.keys(row))
          .expression(
            trx
              .selectFrom(dialect.commitOrder.as('commit_order'))
              .select(Object.entries(row).map(([column, value]) => sql.val(value).as(column))),
          )
          .returning('seq')
          .compile(),
      ),
    )
    const seq = Number(written.rows[0]!.seq)
    if (seq > unit.newestEvent) unit.newestEvent = seq
  }
}

function withoutHidden(collection: CollectionDefinition, data: RecordData) {
  const shown: RecordData = { ...data }
  const hidden: RecordData = {}
  let hasHidden = false
  for (const field of collection.fields) {
    if (!field.hidden || !Object.hasOwn(shown, field.name)) continue
    hidden[field.name] = shown[field.name]
    delete shown[field.name]
    hasHidden = true
  }
  return { shown, hidden, hasHidden }
}

export function actorOf(caller: Caller): EventActor {
  if (!caller.auth) return caller.isSuperuser ? { type: 'system' } : { type: 'anonymous' }
  const actor: EventActor = {
    type: caller.isSuperuser ? 'superuser' : 'user',
    collection: caller.auth.collection.name,
    id: String(caller.auth.record.id),
  }
  if (caller.apiKey) actor.apiKey = caller.apiKey.id
  return actor
}

/** Events after `seq`, oldest first. */
export async function readEvents(db: Kysely<any>, afterSeq: number, limit: number): Promise<StoredEvent[]> {
  const rows = (await db
    .selectFrom(EVENTS_TABLE)
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute()) as EventRow[]
  return rows.map(toEvent)
}

/** The newest event's number, or 0 before the first. */
export async function newestSeq(db: Kysely<any>): Promise<number> {
  const row = await db
    .selectFrom(EVENTS_TABLE)
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst()
  return Number(row?.seq ?? 0)
}

/** The oldest event still kept, or null when none is. */
export async function oldestSeq(db: Kysely<any>): Promise<number | null> {
  const row = await db
    .selectFrom(EVENTS_TABLE)
    .select((eb) => eb.fn.min('seq').as('seq'))
    .executeTakeFirst()
  return row?.seq === null || row?.seq === undefined ? null : Number(row.seq)
}

/** Deletes events older than `before` that every durable consumer has passed. */
export async function pruneEvents(db: Kysely<any>, before: number, deliveredUpTo: number): Promise<number> {
  const result = await db
    .deleteFrom(EVENTS_TABLE)
    .where('time', '<', before)
    .where('seq', '<=', deliveredUpTo)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    seq: Number(row.seq),
    type: typeOf[row.action],
    action: row.action,
    collection: row.collection,
    recordId: row.record_id,
    record: JSON.parse(row.record),
    previous: row.previous === null ? null : JSON.parse(row.previous),
    actor: JSON.parse(row.actor),
    time: Number(row.time),
    hidden: row.hidden === null ? null : JSON.parse(row.hidden),
    traceparent: row.trace_parent,
  }
}

/** The event as it is delivered: without the hidden values rules may read, nor its trace. */
export function publicEvent(event: StoredEvent): Omit<StoredEvent, 'hidden' | 'traceparent'> {
  const { hidden: _hidden, traceparent: _traceparent, ...shown } = event
  return shown
}

/**
 * What webhooks and brokers carry for an event: the Standard Webhooks payload shape,
 * `{type, timestamp, data}`, with `previous` only on updates and deletes.
 */
export interface EventBody {
  type: EventType
  timestamp: string
  data: { collection: string; record: Record<string, unknown>; previous?: Record<string, unknown> }
}

export function eventBody(event: PlinthEvent): EventBody {
  const data: EventBody['data'] = { collection: event.collection, record: event.record }
  if (event.previous) data.previous = event.previous
  return { type: event.type, timestamp: new Date(event.time).toISOString(), data }
}
