import Database from 'better-sqlite3'
import { type Expression, Kysely, type RawBuilder, type SqlBool, sql } from 'kysely'
import type { ConstraintViolation, Dialect, StorageKind, ViewColumn } from '../../dialect.js'
import { QueryTimings } from '../../query-timing.js'
import { sqliteCatalog } from './sqlite-catalog.js'
import { sqliteKyselyDialect } from './sqlite-driver.js'
import { registerFullTextFunctions, sqliteFullText } from './sqlite-full-text.js'
import { GroupCommit } from './sqlite-group-commit.js'
import { applySqlitePragmas } from './sqlite-pragmas.js'

export interface SqliteOptions {
  /** A file path, or ':memory:'. */
  filename: string
  /** FULL survives power loss; NORMAL only a crashed process. */
  synchronous: 'full' | 'normal'
}

export function createSqliteDialect(options: SqliteOptions): Dialect {
  const database = new Database(options.filename)
  applySqlitePragmas(database, options.synchronous)
  registerFullTextFunctions(database)
  const timings = new QueryTimings()
  const db = new Kysely<any>({ dialect: sqliteKyselyDialect(database), log: timings.log })
  const writes = new GroupCommit(db)

  return {
    name: 'sqlite',
    // One connection runs every statement, so transactions never interleave.
    supports: {
      alterConstrainedColumns: false,
      statementTimeout: false,
      rowLocks: false,
      unloggedTables: false,
    },
    notifications: null,
    db,
    fullText: sqliteFullText,
    catalog: sqliteCatalog,
    columnType,
    decode,
    encode,
    jsonEach: (array, alias) => sql`json_each(${array}) as ${sql.id(alias)}`,
    jsonArrayLength: (array) => sql<number>`coalesce(json_array_length(${array}), 0)`,
    // SQLite's LIKE folds ASCII case on its own.
    likeInsensitive: (value, pattern) => sql<SqlBool>`(${value} like ${pattern} escape '\\')`,
    isNotDistinctFrom: (a, b) => sql<SqlBool>`(${a} is ${b})`,
    asText: (value: Expression<unknown>): RawBuilder<string> => sql<string>`cast(${value} as text)`,
    async schemaChange(work) {
      // Rebuilding a table drops the old one; with foreign keys on, that would run its
      // ON DELETE actions. The pragma only takes effect outside a transaction.
      return db.connection().execute(async (connection) => {
        await sql`pragma foreign_keys = off`.execute(connection)
        try {
          return await connection.transaction().execute(async (trx) => {
            const result = await work(trx)
            const broken = await sql`pragma foreign_key_check`.execute(trx)
            if (broken.rows.length > 0) throw new Error('The schema change would leave dangling references.')
            return result
          })
        } finally {
          await sql`pragma foreign_keys = on`.execute(connection)
        }
      })
    },
    cascadeTrigger: ({ trigger, target, owner, junction }) => ({
      create: [
        sql`create trigger ${sql.id(trigger)} before delete on ${sql.table(target)} begin
          delete from ${sql.table(owner)} where id in (select source from ${sql.table(junction)} where target = old.id);
        end`,
      ],
      drop: [sql`drop trigger if exists ${sql.id(trigger)}`],
    }),
    transaction: (work) => writes.run(work),
    // Writers run one at a time and a group commits its members at once, in the order they
    // ran: rows are numbered in commit order already, so the source only has to yield a row.
    commitOrder: sql`(select 1)`,
    // AUTOINCREMENT: a number is never used twice, even after the newest row is deleted.
    addSerialColumn: (table, name) => table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement()),
    async viewColumns(trx, view) {
      const info = await sql<{
        name: string
        type: string
      }>`select name, type from pragma_table_info(${view})`.execute(trx)
      if (info.rows.length === 0) throw new Error(`no such view: ${view}`)
      const columns: ViewColumn[] = []
      for (const { name, type } of info.rows) {
        const declared = type.toLowerCase()
        // A column read straight from a table keeps its declared type: Plinth declares numbers
        // `real` and booleans `integer`; `text` holds text, dates and JSON alike, so it tells nothing.
        if (declared === 'real') columns.push({ name, kind: 'number' })
        else if (declared === 'integer') columns.push({ name, kind: 'boolean' })
        else if (declared !== '') columns.push({ name, kind: null })
        else {
          // An expression has no declared type: a stored value tells what it yields (count() is an integer).
          const sample = await sql<{
            type: string
          }>`select typeof(${sql.id(name)}) as type from ${sql.table(view)}
            where ${sql.id(name)} is not null limit 1`.execute(trx)
          const found = sample.rows[0]?.type
          columns.push({ name, kind: found === 'integer' || found === 'real' ? 'number' : null })
        }
      }
      return columns
    },
    constraintViolation,
    isStaleSchema: (error) =>
      error instanceof Error &&
      /^no such (column|table)\b|^table \S+ has no column named /.test(error.message),
    onQuery: (listener) => timings.listen(listener),
    poolUse: () => null,
    close: () => db.destroy(),
  }
}

function columnType(kind: StorageKind): RawBuilder<unknown> {
  switch (kind) {
    case 'number':
      return sql`real`
    case 'boolean':
      return sql`integer`
    default:
      return sql`text`
  }
}

function decode(kind: StorageKind, raw: unknown): unknown {
  if (raw === null || raw === undefined) return raw ?? null
  if (kind === 'boolean') return raw === 1 || raw === true
  if (kind === 'json' && typeof raw === 'string') return JSON.parse(raw)
  return raw
}

function encode(kind: StorageKind, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (kind === 'json') return JSON.stringify(value)
  if (kind === 'boolean') return value ? 1 : 0
  return value
}

function constraintViolation(error: unknown): ConstraintViolation | null {
  const code = (error as { code?: unknown })?.code
  const message = String((error as { message?: unknown })?.message ?? '')
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    // "UNIQUE constraint failed: posts.title, posts.author"
    const list = message.split(':')[1] ?? ''
    const columns = list
      .split(',')
      .map((part) => part.trim().split('.').pop() ?? '')
      .filter(Boolean)
    return { kind: 'unique', columns }
  }
  // RESTRICT actions fail as a trigger would, with the same message.
  if (
    code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    (code === 'SQLITE_CONSTRAINT_TRIGGER' && message.includes('FOREIGN KEY'))
  )
    return { kind: 'foreign_key' }
  return null
}
