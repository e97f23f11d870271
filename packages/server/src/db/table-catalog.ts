import type { Kysely } from 'kysely'

/** A column as a copy of its table writes it. */
export interface CatalogColumn {
  name: string
  /** Numbered by the database as rows are inserted (see Dialect.addSerialColumn). */
  isSerial: boolean
}

/** A foreign key of a table: its columns point at rows of `table`. */
export interface CatalogForeignKey {
  columns: string[]
  table: string
}

/**
 * Tables as plain rows, for tools that copy a whole database (backups, moving from SQLite to
 * PostgreSQL). Table names come from the database's own catalog or from validated definitions.
 */
export interface TableCatalog {
  /** The ordinary tables of the current schema: no views, virtual tables or their shadow tables. */
  tables(db: Kysely<any>): Promise<string[]>
  /** The columns a copy writes, in order; columns the database computes itself are left out. */
  columns(db: Kysely<any>, table: string): Promise<CatalogColumn[]>
  /** The primary key's columns, in key order; empty when the table has none. */
  primaryKey(db: Kysely<any>, table: string): Promise<string[]>
  foreignKeys(db: Kysely<any>, table: string): Promise<CatalogForeignKey[]>
  /** Inserts rows as given, numbers of serial columns included. */
  insertRows(db: Kysely<any>, table: string, columns: string[], rows: unknown[][]): Promise<void>
  /** The number a serial column gives the next row: above every number it ever gave, deleted rows' too. */
  nextSerial(db: Kysely<any>, table: string, column: string): Promise<number>
  setNextSerial(db: Kysely<any>, table: string, column: string, next: number): Promise<void>
  /**
   * Runs read-only work on one consistent view of the database, however long it takes
   * and whatever other connections write meanwhile.
   */
  snapshot<T>(db: Kysely<any>, work: (trx: Kysely<any>) => Promise<T>): Promise<T>
}
