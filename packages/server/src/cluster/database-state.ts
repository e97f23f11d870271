import { type Kysely, sql } from 'kysely'
import type { Logger } from 'pino'
import type { Notifications, SystemMigration } from '../db/index.js'
import type { Channel, SharedState, WindowCount } from './shared-state.js'

export const SHARED_COUNTERS_TABLE = '_shared_counters'

/** How often ended windows are deleted. */
const PRUNE_MS = 60_000

/**
 * Counters lost in a crash cost nothing but a fresh window, so on PostgreSQL the table
 * skips the write-ahead log: counting a request then never waits for a disk flush.
 */
export const sharedCountersMigration: SystemMigration = {
  name: '0090_shared_counters',
  async up(db, dialect) {
    await db.schema
      .createTable(SHARED_COUNTERS_TABLE)
      .$call((table) => (dialect.supports.unloggedTables ? table.modifyFront(sql`unlogged`) : table))
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint', (c) => c.notNull())
      .execute()
  },
}

const channelName = (channel: Channel) => `plinth_${channel}`

/**
 * Shared state in the database every node already uses: counters in one table,
 * messages through the database's notifications. Correct without Redis; each
 * counted request costs a statement.
 */
export class DatabaseState implements SharedState {
  readonly kind = 'database'
  readonly #pruner: NodeJS.Timeout

  constructor(
    private readonly db: Kysely<any>,
    private readonly notifications: Notifications,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.#pruner = setInterval(() => {
      this.db
        .deleteFrom(SHARED_COUNTERS_TABLE)
        .where('ends_at', '<=', Date.now())
        .execute()
        .catch((error) => this.log.warn({ err: error }, 'pruning ended counter windows failed'))
    }, PRUNE_MS)
    this.#pruner.unref()
  }

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now()
    const ended = sql<boolean>`${sql.ref(`${SHARED_COUNTERS_TABLE}.ends_at`)} <= ${now}`
    const row = await this.db
      .insertInto(SHARED_COUNTERS_TABLE)
      .values({ key, count: 1, ends_at: now + windowMs })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          count: sql`case when ${ended} then 1 else ${sql.ref(`${SHARED_COUNTERS_TABLE}.count`)} + 1 end`,
          ends_at: sql`case when ${ended} then excluded.ends_at else ${sql.ref(`${SHARED_COUNTERS_TABLE}.ends_at`)} end`,
        }),
      )
      .returning(['count', 'ends_at'])
      .executeTakeFirstOrThrow()
    return { count: Number(row.count), ttlMs: Number(row.ends_at) - now }
  }

  async peek(key: string): Promise<WindowCount> {
    const now = Date.now()
    const row = await this.db
      .selectFrom(SHARED_COUNTERS_TABLE)
      .select(['count', 'ends_at'])
      .where('key', '=', key)
      .where('ends_at', '>', now)
      .executeTakeFirst()
    return row ? { count: Number(row.count), ttlMs: Number(row.ends_at) - now } : { count: 0, ttlMs: 0 }
  }

  async publish(channel: Channel, message = ''): Promise<void> {
    try {
      await this.notifications.notify(channelName(channel), message)
    } catch (error) {
      this.log.warn({ err: error, channel }, 'a notice to the other nodes was not sent')
    }
  }

  subscribe(channel: Channel, listener: (message: string) => void): () => void {
    return this.notifications.listen(channelName(channel), listener)
  }

  status() {
    return 'ok' as const
  }

  async close(): Promise<void> {
    clearInterval(this.#pruner)
  }
}
