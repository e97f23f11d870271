import type { CreateTableBuilder, Expression, Kysely, RawBuilder, SqlBool } from 'kysely'
import type { FullTextSearch } from './full-text.js'
import type { Notifications } from './notifications.js'
import type { QueryTiming } from './query-timing.js'
import type { TableCatalog } from './table-catalog.js'

/**
 * How a value is kept in a column. Collections map each field type to one of these,
 * so the database layer knows storage, not field definitions.
 */
export type StorageKind = 'text' | 'number' | 'boolean' | 'timestamp' | 'json'

/** One column a SQL view returns. */
export interface ViewColumn {
  name: string
  /** How its values are kept, or null when the database cannot tell (SQLite's loose types). */
  kind: StorageKind | null
  /** The database's name for a type Plinth cannot serve (an interval, an array). */
  unsupportedType?: string
}

/** What a database error means to a caller, when Plinth knows. */
export type ConstraintViolation =
  | { kind: 'unique'; columns: string[]; constraint?: string }
  | { kind: 'foreign_key'; constraint?: string }

/**
 * Everything that differs between SQL databases, in one place. Each dialect is a
 * folder under dialects/ with the same file names; MySQL is one more folder.
 * Ask `supports.*`, never the dialect's name.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres'
  readonly supports: {
    /** ALTER TABLE can drop or change a column that has a foreign key. */
    alterConstrainedColumns: boolean
    /** Statements can be given a server-side timeout. */
    statementTimeout: boolean
    /**
     * Concurrent write transactions read rows that another may change before they
     * commit, so a read that decides a write must lock its row (SELECT … FOR UPDATE).
     * A database whose writers run one at a time has nothing to lock.
     */
    rowLocks: boolean
    /** Tables can skip the write-ahead log: fast for state that may be lost in a crash (counters). */
    unloggedTables: boolean
  }
  readonly db: Kysely<any>
  /** Messages between every connection of the database; null where it has none. */
  readonly notifications: Notifications | null
  /** Full-text indexes of collections and the SQL of searches over them. */
  readonly fullText: FullTextSearch
  /** Tables as plain rows, for copies of a whole database. */
  readonly catalog: TableCatalog
  /** The SQL type of a column of this kind. */
  columnType(kind: StorageKind): RawBuilder<unknown>
  /** A stored value as the API shows it. */
  decode(kind: StorageKind, raw: unknown): unknown
  /** An API value as the driver binds it. */
  encode(kind: StorageKind, value: unknown): unknown
  /** A table source with one column `value`, one row per element of a JSON array. */
  jsonEach(array: Expression<unknown>, alias: string): RawBuilder<unknown>
  jsonArrayLength(array: Expression<unknown>): RawBuilder<number>
  /** Case-insensitive LIKE; `pattern` escapes its wildcards with a backslash. */
  likeInsensitive(value: Expression<unknown>, pattern: Expression<unknown>): RawBuilder<SqlBool>
  /** Null-safe equality (`NULL = NULL` is true). */
  isNotDistinctFrom(a: Expression<unknown>, b: Expression<unknown>): RawBuilder<SqlBool>
  /** A value compared as text, for `:lower` and `~` on non-text columns. */
  asText(value: Expression<unknown>): RawBuilder<string>
  /**
   * Runs a schema change: one transaction, serialised across nodes, with foreign keys
   * checked at the end rather than acted on while tables are rebuilt.
   */
  schemaChange<T>(work: (trx: Kysely<any>) => Promise<T>): Promise<T>
  /**
   * Statements that make deleting a `target` row also delete the `owner` records linked
   * to it through `junction` (a multi relation with onDelete cascade), and the ones that undo it.
   */
  cascadeTrigger(names: { trigger: string; target: string; owner: string; junction: string }): {
    create: RawBuilder<unknown>[]
    drop: RawBuilder<unknown>[]
  }
  /**
   * Runs a write transaction, and runs it again (a few times) when the database
   * aborted it for a conflict with a concurrent one, such as a deadlock: `work` must
   * do nothing outside the database that a second run would repeat. Where writers run
   * one at a time, transactions that ask together may commit together; each still
   * succeeds or fails alone, and settles only after the commit.
   */
  transaction<T>(work: (trx: Kysely<any>) => Promise<T>): Promise<T>
  /**
   * A one-row table source for the statement that takes a number (a sequence) which must
   * grow in commit order: reading it makes the transaction commit after every transaction
   * that read it earlier and before every one that reads it later. Held to the end of the
   * transaction, so a transaction reads it in its last statements; one statement that reads
   * it and takes its number costs no round trip of its own.
   */
  readonly commitOrder: RawBuilder<unknown>
  /** Adds a primary key column that numbers rows 1, 2, 3… as they are inserted. */
  addSerialColumn(table: CreateTableBuilder<any, any>, name: string): CreateTableBuilder<any, any>
  /** The columns of a SQL view, in order; fails when the view cannot be read (a missing table). */
  viewColumns(db: Kysely<any>, view: string): Promise<ViewColumn[]>
  /** What a failed statement violated, if it was a constraint. */
  constraintViolation(error: unknown): ConstraintViolation | null
  /**
   * Whether a statement failed for naming a table or column that is not there: SQL is
   * built from collection definitions only, so the definition it used was out of date
   * (a concurrent schema change, or one made on another node).
   */
  isStaleSchema(error: unknown): boolean
  /** Hands the duration and text of every later statement to `listener` (metrics, traces); each call adds one. */
  onQuery(listener: (timing: QueryTiming) => void): void
  /** How the connection pool is used now, or null where there is no pool (one SQLite connection). */
  poolUse(): PoolUse | null
  close(): Promise<void>
}

export interface PoolUse {
  /** Open connections, busy or idle. */
  total: number
  idle: number
  /** Statements waiting for a connection: the pool is too small for the load. */
  waiting: number
}
