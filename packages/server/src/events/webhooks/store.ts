import { type ExpressionBuilder, type Kysely, sql } from 'kysely'
import type { Dialect } from '../../db/index.js'
import { DELIVERIES_TABLE, WEBHOOKS_TABLE } from './migration.js'
import type { CircuitState, Delivery, DeliveryPage, DeliveryState, Webhook } from './types.js'

export interface WebhookRow {
  id: string
  url: string
  collections: string
  actions: string
  filter: string | null
  secret: string
  failures: number
  paused_until: number | string | null
  /** 1 when a superuser paused the endpoint by hand; the circuit's own pause is `paused_until`. */
  paused: number
  /** See `webhooksCatchUpMigration`: events after it the fan-out went by, owed to this endpoint once. */
  catch_up_after: number | string | null
  created: number | string
  updated: number | string
}

export interface DeliveryRow {
  id: string
  webhook_id: string
  event_id: string
  event_seq: number | string
  type: string
  collection: string
  record_id: string
  body: string
  state: DeliveryState
  attempts: number
  next_at: number | string
  locked_by: string | null
  locked_until: number | string | null
  response_status: number | null
  duration_ms: number | null
  last_error: string | null
  created: number | string
  updated: number | string
  finished: number | string | null
  trace_parent: string | null
}

export type NewDelivery = Pick<
  DeliveryRow,
  | 'id'
  | 'webhook_id'
  | 'event_id'
  | 'event_seq'
  | 'type'
  | 'collection'
  | 'record_id'
  | 'body'
  | 'trace_parent'
>

/** States in which a delivery still has an attempt ahead; a later one of its record waits for it. */
const UNFINISHED: DeliveryState[] = ['pending', 'failed', 'sending']

// A bound number is an int4 to PostgreSQL unless told otherwise; epoch milliseconds need 64 bits.
const big = (ms: number) => sql<number>`cast(${ms} as bigint)`
const iso = (ms: number | string) => new Date(Number(ms)).toISOString()

export function circuitOf(row: WebhookRow, now: number): CircuitState {
  if (row.paused_until === null) return 'closed'
  return Number(row.paused_until) > now ? 'open' : 'half-open'
}

export function toWebhook(row: WebhookRow, now: number): Webhook {
  return {
    id: row.id,
    url: row.url,
    collections: JSON.parse(row.collections),
    actions: JSON.parse(row.actions),
    filter: row.filter,
    paused: Number(row.paused) === 1,
    circuit: {
      state: circuitOf(row, now),
      failures: Number(row.failures),
      pausedUntil: row.paused_until === null ? null : iso(row.paused_until),
    },
    created: iso(row.created),
    updated: iso(row.updated),
  }
}

export function toDelivery(row: DeliveryRow): Delivery {
  const isWaiting = row.state === 'pending' || row.state === 'failed'
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    type: row.type,
    collection: row.collection,
    recordId: row.record_id,
    state: row.state,
    attempts: Number(row.attempts),
    nextAttempt: isWaiting ? iso(row.next_at) : null,
    responseStatus: row.response_status === null ? null : Number(row.response_status),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    lastError: row.last_error,
    created: iso(row.created),
    updated: iso(row.updated),
    finished: row.finished === null ? null : iso(row.finished),
  }
}

/** Due: waiting and its time has come, or its attempt's node died (the lease ran out). */
function isDue(eb: ExpressionBuilder<any, 'd'>, now: number) {
  return eb.or([
    eb.and([eb('d.state', 'in', ['pending', 'failed']), eb('d.next_at', '<=', big(now))]),
    eb.and([eb('d.state', '=', 'sending'), eb('d.locked_until', '<', big(now))]),
  ])
}

/** The SQL of endpoints and deliveries; every time is a value the caller binds. */
export class WebhookStore {
  constructor(private readonly dialect: Dialect) {}

  get db(): Kysely<any> {
    return this.dialect.db
  }

  async insertWebhook(row: WebhookRow): Promise<void> {
    await this.db.insertInto(WEBHOOKS_TABLE).values(row).execute()
  }

  async webhooks(): Promise<WebhookRow[]> {
    return (await this.db.selectFrom(WEBHOOKS_TABLE).selectAll().orderBy('id').execute()) as WebhookRow[]
  }

  /** The endpoint was handed the events it was owed from before the fan-out knew of it. */
  async clearCatchUp(id: string): Promise<void> {
    await this.db.updateTable(WEBHOOKS_TABLE).set({ catch_up_after: null }).where('id', '=', id).execute()
  }

  async webhook(id: string): Promise<WebhookRow | undefined> {
    return (await this.db.selectFrom(WEBHOOKS_TABLE).selectAll().where('id', '=', id).executeTakeFirst()) as
      | WebhookRow
      | undefined
  }

  async updateWebhook(id: string, changes: Partial<WebhookRow>): Promise<WebhookRow | undefined> {
    return (await this.db
      .updateTable(WEBHOOKS_TABLE)
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()) as WebhookRow | undefined
  }

  /** Deletes an endpoint and its delivery log; false when there was none. */
  async removeWebhook(id: string): Promise<boolean> {
    return this.dialect.transaction(async (trx) => {
      await trx.deleteFrom(DELIVERIES_TABLE).where('webhook_id', '=', id).execute()
      const deleted = await trx.deleteFrom(WEBHOOKS_TABLE).where('id', '=', id).executeTakeFirst()
      return Number(deleted.numDeletedRows) > 0
    })
  }

  /** Adds deliveries due now; one that exists already for its (endpoint, event) is left alone. */
  async insertDeliveries(deliveries: NewDelivery[], now: number): Promise<void> {
    for (let start = 0; start < deliveries.length; start += 100) {
      const rows = deliveries.slice(start, start + 100).map((delivery) => ({
        ...delivery,
        state: 'pending',
        attempts: 0,
        next_at: now,
        created: now,
        updated: now,
      }))
      await this.db
        .insertInto(DELIVERIES_TABLE)
        .values(rows)
        .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
        .execute()
    }
  }

  /**
   * Takes up to `limit` due deliveries of one endpoint for one attempt each, oldest
   * event first. A delivery waits while an earlier one of the same record is
   * unfinished, so each record's changes arrive in order. An attempt whose node died
   * (its lease ran out) is taken again. Where writers run concurrently the rows are
   * locked and locked ones skipped, so two nodes never take the same delivery. Nothing
   * is taken once the endpoint is paused by hand, even in the middle of a batch.
   */
  async claim(webhookId: string, limit: number, token: string, now: number, lease: number) {
    let due = this.db
      .selectFrom(`${DELIVERIES_TABLE} as d`)
      .select('d.id')
      .where('d.webhook_id', '=', webhookId)
      .where((eb) => isDue(eb, now))
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom(`${WEBHOOKS_TABLE} as w`)
            .select(sql`1`.as('one'))
            .whereRef('w.id', '=', 'd.webhook_id')
            .where('w.paused', '=', 0),
        ),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom(`${DELIVERIES_TABLE} as e`)
              .select(sql`1`.as('one'))
              .whereRef('e.webhook_id', '=', 'd.webhook_id')
              .whereRef('e.collection', '=', 'd.collection')
              .whereRef('e.record_id', '=', 'd.record_id')
              .whereRef('e.event_seq', '<', 'd.event_seq')
              .where('e.state', 'in', UNFINISHED),
          ),
        ),
      )
      .orderBy('d.event_seq')
      .limit(limit)
    if (this.dialect.supports.rowLocks) due = due.forUpdate().skipLocked()
    return (await this.db
      .updateTable(DELIVERIES_TABLE)
      .set({
        state: 'sending',
        attempts: sql`attempts + 1`,
        locked_by: token,
        locked_until: big(now + lease),
        updated: now,
      })
      .where('id', 'in', due)
      .returningAll()
      .execute()) as DeliveryRow[]
  }

  /** Records the end of an attempt, if this node still holds the delivery. */
  async finish(
    row: DeliveryRow,
    outcome: {
      state: 'succeeded' | 'failed' | 'dead'
      status: number | null
      durationMs: number
      error: string | null
      nextAt?: number
    },
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable(DELIVERIES_TABLE)
      .set({
        state: outcome.state,
        response_status: outcome.status,
        duration_ms: outcome.durationMs,
        last_error: outcome.error,
        locked_by: null,
        locked_until: null,
        ...(outcome.nextAt === undefined ? {} : { next_at: outcome.nextAt }),
        updated: now,
        finished: outcome.state === 'failed' ? null : now,
      })
      .where('id', '=', row.id)
      .where('locked_by', '=', row.locked_by)
      .execute()
  }

  /**
   * Endpoints not paused by hand with a delivery due now whose circuit is closed, or
   * open with its pause over; the others wait.
   */
  async deliverable(now: number): Promise<WebhookRow[]> {
    return (await this.db
      .selectFrom(`${WEBHOOKS_TABLE} as w`)
      .selectAll('w')
      .where('w.paused', '=', 0)
      .where((eb) => eb.or([eb('w.paused_until', 'is', null), eb('w.paused_until', '<=', big(now))]))
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom(`${DELIVERIES_TABLE} as d`)
            .select(sql`1`.as('one'))
            .whereRef('d.webhook_id', '=', 'w.id')
            .where((eb) => isDue(eb, now)),
        ),
      )
      .execute()) as WebhookRow[]
  }

  /**
   * Takes the one probe of a half-open endpoint: its pause moves to `until`, so other
   * nodes wait while this one tries. False when another node took it first.
   */
  async takeProbe(row: WebhookRow, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable(WEBHOOKS_TABLE)
      .set({ paused_until: until })
      .where('id', '=', row.id)
      .where('paused_until', '=', big(Number(row.paused_until)))
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /** Gives back a probe that found nothing to send. */
  async returnProbe(id: string, taken: number, previous: number): Promise<void> {
    await this.db
      .updateTable(WEBHOOKS_TABLE)
      .set({ paused_until: previous })
      .where('id', '=', id)
      .where('paused_until', '=', big(taken))
      .execute()
  }

  /** A delivered attempt closes the circuit. */
  async succeeded(id: string): Promise<void> {
    await this.db
      .updateTable(WEBHOOKS_TABLE)
      .set({ failures: 0, paused_until: null })
      .where('id', '=', id)
      .execute()
  }

  /**
   * A failed attempt counts; at `threshold` in a row the endpoint pauses until `pauseUntil`
   * (true then). An attempt that was under way when the endpoint was paused by hand does not
   * count: the endpoint is out of service, so its answers say nothing about its health.
   */
  async failed(id: string, threshold: number, pauseUntil: number): Promise<boolean> {
    const row = await this.db
      .updateTable(WEBHOOKS_TABLE)
      .set((eb) => ({
        failures: sql`failures + 1`,
        paused_until: eb
          .case()
          .when(sql<boolean>`failures + 1 >= ${threshold}`)
          .then(big(pauseUntil))
          .else(eb.ref('paused_until'))
          .end(),
      }))
      .where('id', '=', id)
      .where('paused', '=', 0)
      .returning('paused_until')
      .executeTakeFirst()
    return (
      row?.paused_until !== null && row?.paused_until !== undefined && Number(row.paused_until) > Date.now()
    )
  }

  async deliveries(
    webhookId: string,
    query: { state?: DeliveryState; page: number; perPage: number },
  ): Promise<DeliveryPage> {
    let filtered = this.db.selectFrom(DELIVERIES_TABLE).where('webhook_id', '=', webhookId)
    if (query.state) filtered = filtered.where('state', '=', query.state)
    const counted = await filtered.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()
    const totalItems = Number(counted?.n ?? 0)
    const rows = (await filtered
      .selectAll()
      .orderBy('created', 'desc')
      .orderBy('id', 'desc')
      .limit(query.perPage)
      .offset((query.page - 1) * query.perPage)
      .execute()) as DeliveryRow[]
    return {
      items: rows.map(toDelivery),
      page: query.page,
      perPage: query.perPage,
      totalItems,
      totalPages: Math.ceil(totalItems / query.perPage),
    }
  }

  /** Puts a delivery that is not being sent back in line, due now, with its attempts counted afresh. */
  async replay(webhookId: string, id: string, now: number): Promise<DeliveryRow | undefined> {
    return (await this.db
      .updateTable(DELIVERIES_TABLE)
      .set({ state: 'pending', attempts: 0, next_at: now, finished: null, updated: now })
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .where('state', '!=', 'sending')
      .returningAll()
      .executeTakeFirst()) as DeliveryRow | undefined
  }

  async delivery(webhookId: string, id: string): Promise<DeliveryRow | undefined> {
    return (await this.db
      .selectFrom(DELIVERIES_TABLE)
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .where('id', '=', id)
      .executeTakeFirst()) as DeliveryRow | undefined
  }

  /**
   * Deletes finished deliveries older than `before`, and any left by an endpoint removed
   * while the fan-out was adding to it.
   */
  async prune(before: number): Promise<void> {
    await this.db
      .deleteFrom(DELIVERIES_TABLE)
      .where('state', 'in', ['succeeded', 'dead'])
      .where('finished', '<', big(before))
      .execute()
    await this.db
      .deleteFrom(DELIVERIES_TABLE)
      .where('webhook_id', 'not in', this.db.selectFrom(WEBHOOKS_TABLE).select('id'))
      .execute()
  }
}
