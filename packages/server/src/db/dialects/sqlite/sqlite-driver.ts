import type Database from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type Kysely,
  type Dialect as KyselyDialect,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import { LRUCache } from 'lru-cache'

/**
 * better-sqlite3 behind Kysely, with two changes to Kysely's own driver:
 * write transactions take the lock up front (`BEGIN IMMEDIATE`), so two writers never
 * deadlock upgrading a read lock, and prepared statements are cached by SQL text,
 * because preparing is a large part of a cheap query's cost.
 */
export class SqliteDriver implements Driver {
  readonly #connection: SqliteConnection
  #queue: Promise<void> = Promise.resolve()

  constructor(database: Database.Database) {
    this.#connection = new SqliteConnection(database)
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection: callers queue for it, as in Kysely's own driver.
    let release!: () => void
    const previous = this.#queue
    this.#queue = new Promise<void>((resolve) => {
      release = resolve
    })
    await previous
    this.#connection.release = release
    return this.#connection
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // Some failures (a full disk, an interrupted statement) end the transaction in SQLite
    // itself; a second rollback would hide the error that did it.
    if ((connection as SqliteConnection).database.inTransaction)
      await connection.executeQuery(CompiledQuery.raw('rollback'))
  }

  async releaseConnection(): Promise<void> {
    const release = this.#connection.release
    this.#connection.release = undefined
    release?.()
  }

  async destroy(): Promise<void> {
    this.#connection.close()
  }
}

class SqliteConnection implements DatabaseConnection {
  release: (() => void) | undefined
  readonly #statements = new LRUCache<string, Database.Statement>({ max: 500 })

  constructor(readonly database: Database.Database) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    let statement = this.#statements.get(query.sql)
    if (!statement) {
      statement = this.database.prepare(query.sql)
      this.#statements.set(query.sql, statement)
    }
    const parameters = query.parameters.map(toSqliteValue)
    if (statement.reader) return { rows: statement.all(parameters) as R[] }
    const { changes } = statement.run(parameters)
    return { numAffectedRows: BigInt(changes), rows: [] }
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered on SQLite
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not supported on SQLite.')
  }

  close(): void {
    this.#statements.clear()
    this.database.close()
  }
}

// better-sqlite3 binds no booleans; SQLite stores them as 0 and 1.
function toSqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  return value
}

export function sqliteKyselyDialect(database: Database.Database): KyselyDialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new SqliteDriver(database),
    createIntrospector: (db: Kysely<any>) => new SqliteIntrospector(db),
    createQueryCompiler: (): QueryCompiler => new SqliteQueryCompiler(),
  }
}

export type { SqliteDatabase }
