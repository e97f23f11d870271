import { setTimeout as sleep } from 'node:timers/promises'
import { type Expression, Kysely, PostgresDialect, type RawBuilder, type SqlBool, sql } from 'kysely'
import pg from 'pg'
import type { ConstraintViolation, Dialect, StorageKind, ViewColumn } from '../../dialect.js'
import { QueryTimings } from '../../query-timing.js'
import { postgresCatalog } from './postgres-catalog.js'
import { postgresFullText } from './postgres-full-text.js'
import { postgresNotifications } from './postgres-notifications.js'
import { isChangedPlan, PreparedStatements } from './prepared-statements.js'

export interface PostgresOptions {
  url: string
  statementTimeoutMs: number
  poolSize: number
  /** How long opening a connection may take, in ms; unset waits as long as the server does. */
  connectTimeoutMs?: number
  /** Statements with values go as named prepared statements (off for poolers that cannot keep them). */
  preparedStatements: boolean
}

const TIMESTAMPTZ = 1184
const TIMESTAMP = 1114
const INT8 = 20
const NUMERIC = 1700

// Per pool, not global: two apps in one process must not share parser state.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ || oid === TIMESTAMP) return (value: string) => new Date(value).toISOString()
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

/** deadlock_detected and serialization_failure: the transaction lost to a concurrent one. */
const CONFLICT_CODES = new Set(['40P01', '40001'])
const TRANSACTION_ATTEMPTS = 3
/** undefined_column and undefined_table. */
const STALE_SCHEMA_CODES = new Set(['42703', '42P01'])

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code

/** A constant key for the advisory lock that serialises schema changes across nodes. */
const SCHEMA_LOCK_KEY = 0x706c696e7468
/** The advisory lock that orders the commits of transactions that write numbered rows. */
const COMMIT_ORDER_LOCK_KEY = 0x706c696e7469

function openPool(options: PostgresOptions, prepared: PreparedStatements | null): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    statement_timeout: options.statementTimeoutMs,
    // Bounded, so a replica that does not answer costs a read a moment, not the statement timeout.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 0,
    types,
  })
  // An idle connection the server ends (a restart, pg_terminate_backend, a proxy's timeout) is
  // reported here; the pool has already let it go and opens another when one is needed.
  // Without a listener the error would end the process.
  pool.on('error', () => {})
  prepared?.attach(pool)
  return pool
}

/** What a primary's replicas share with it: its statement timings and its prepared statements. */
const sharedWithReplicas = new WeakMap<
  Kysely<any>,
  { timings: QueryTimings; prepared: PreparedStatements | null }
>()

/**
 * A read replica's connections: the values read as the primary's are, and nothing else
 * (no notifications, no schema changes), since only reads go there. Its statements are timed
 * and traced as the primary's are, and prepared afresh when the primary's are.
 */
export function createPostgresReplica(options: PostgresOptions, primary: Kysely<any>): Kysely<any> {
  const shared = sharedWithReplicas.get(primary)
  const prepared = options.preparedStatements ? (shared?.prepared ?? null) : null
  return new Kysely<any>({
    dialect: new PostgresDialect({ pool: openPool(options, prepared) }),
    ...(shared ? { log: shared.timings.log } : {}),
  })
}

export function createPostgresDialect(options: PostgresOptions): Dialect {
  const prepared = options.preparedStatements ? new PreparedStatements() : null
  const pool = openPool(options, prepared)
  const timings = new QueryTimings()
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log: timings.log })
  sharedWithReplicas.set(db, { timings, prepared })
  const notifications = postgresNotifications(db, options.url)

  return {
    name: 'postgres',
    supports: { alterConstrainedColumns: true, statementTimeout: true, rowLocks: true, unloggedTables: true },
    notifications,
    db,
    fullText: postgresFullText,
    catalog: postgresCatalog,
    columnType,
    decode,
    encode,
    jsonEach: (array, alias) => sql`jsonb_array_elements_text(${array}) as ${sql.id(alias)}(value)`,
    jsonArrayLength: (array) => sql<number>`coalesce(jsonb_array_length(${array}), 0)`,
    likeInsensitive: (value, pattern) => sql<SqlBool>`(${value} ilike ${pattern} escape '\\')`,
    isNotDistinctFrom: (a, b) => sql<SqlBool>`(${a} is not distinct from ${b})`,
    asText: (value: Expression<unknown>): RawBuilder<string> => sql<string>`cast(${value} as text)`,
    async schemaChange(work) {
      return db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${SCHEMA_LOCK_KEY})`.execute(trx)
        return work(trx)
      })
    },
    // The function body is compiled text with identifiers only: no bound values inside $$.
    cascadeTrigger: ({ trigger, target, owner, junction }) => ({
      create: [
        sql`create function ${sql.id(trigger)}() returns trigger language plpgsql as $$ begin
          delete from ${sql.table(owner)} where id in (select source from ${sql.table(junction)} where target = old.id);
          return old;
        end $$`,
        sql`create trigger ${sql.id(trigger)} before delete on ${sql.table(target)}
          for each row execute function ${sql.id(trigger)}()`,
      ],
      drop: [sql`drop function if exists ${sql.id(trigger)}() cascade`],
    }),
    // A literal, not a bound value: the statements that read it bind exactly their own row.
    commitOrder: sql`pg_advisory_xact_lock(${sql.lit(COMMIT_ORDER_LOCK_KEY)})`,
    addSerialColumn: (table, name) =>
      table.addColumn(name, 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity()),
    async transaction(work) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(work)
        } catch (error) {
          if (attempt === TRANSACTION_ATTEMPTS || !CONFLICT_CODES.has(codeOf(error) as string)) throw error
          // A random pause, so the two that collided do not meet again at once.
          await sleep(Math.random() * 20 * attempt)
        }
      }
    },
    async viewColumns(trx, view) {
      const result = await sql<{ column_name: string; data_type: string }>`
        select column_name, data_type from information_schema.columns
        where table_schema = current_schema() and table_name = ${view} order by ordinal_position`.execute(trx)
      return result.rows.map((row) => viewColumn(row.column_name, row.data_type))
    },
    constraintViolation,
    isStaleSchema: (error) => STALE_SCHEMA_CODES.has(codeOf(error) as string) || isChangedPlan(error),
    onQuery: (listener) => timings.listen(listener),
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await notifications.close()
      await db.destroy()
    },
  }
}

function columnType(kind: StorageKind): RawBuilder<unknown> {
  switch (kind) {
    case 'number':
      return sql`double precision`
    case 'boolean':
      return sql`boolean`
    case 'timestamp':
      return sql`timestamptz(3)`
    case 'json':
      return sql`jsonb`
    default:
      return sql`text`
  }
}

function decode(_kind: StorageKind, raw: unknown): unknown {
  return raw ?? null
}

function encode(kind: StorageKind, value: unknown): unknown {
  if (value === null || value === undefined) return null
  // pg would send a JS array as a PostgreSQL array; jsonb wants JSON text.
  if (kind === 'json') return JSON.stringify(value)
  return value
}

const numericTypes = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'])
const textTypes = new Set(['text', 'character varying', 'character', 'uuid', 'name'])

function viewColumn(name: string, type: string): ViewColumn {
  if (type === 'boolean') return { name, kind: 'boolean' }
  if (numericTypes.has(type)) return { name, kind: 'number' }
  if (type.startsWith('timestamp') || type === 'date') return { name, kind: 'timestamp' }
  if (type === 'json' || type === 'jsonb') return { name, kind: 'json' }
  if (textTypes.has(type)) return { name, kind: 'text' }
  return { name, kind: null, unsupportedType: type }
}

function constraintViolation(error: unknown): ConstraintViolation | null {
  const e = error as { code?: string; constraint?: string; detail?: string }
  if (e?.code === '23505') {
    // detail: "Key (title, author)=(a, b) already exists."
    const match = /^Key \(([^)]*)\)=/.exec(e.detail ?? '')
    const columns = (match?.[1] ?? '')
      .split(',')
      .map((c) => c.trim().replace(/^"|"$/g, ''))
      .filter(Boolean)
    return { kind: 'unique', columns, constraint: e.constraint }
  }
  if (e?.code === '23503') return { kind: 'foreign_key', constraint: e.constraint }
  return null
}
