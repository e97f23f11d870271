import { hash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { canonical } from '../collections/index.js'
import type { Dialect, StorageKind } from '../db/index.js'
import type { ColumnPlan, TablePlan } from './tables.js'

/** A row as a copy carries it: column name to a JSON value, the same whichever database it came from. */
export type Row = Record<string, unknown>

/** Both databases take well over this many bound values in one statement (PostgreSQL 65,535, SQLite 32,766). */
const MAX_BOUND_VALUES = 30_000

/** A stored value as plain JSON: booleans and JSON fields decoded, 64-bit integers as numbers. */
function portable(dialect: Dialect, kind: StorageKind | null, raw: unknown): unknown {
  if (kind !== null) return dialect.decode(kind, raw)
  return typeof raw === 'bigint' ? Number(raw) : (raw ?? null)
}

function stored(dialect: Dialect, kind: StorageKind | null, value: unknown): unknown {
  return kind === null ? (value ?? null) : dialect.encode(kind, value)
}

const columnList = (names: readonly string[]) => sql.join(names.map((name) => sql.id(name)))

/** One batch of a table: its rows, and the key of the last one to resume after. */
export interface Batch {
  rows: Row[]
  lastKey: unknown[]
}

/**
 * Reads a table in key order, `size` rows at a time, starting after `after` (a key). Each
 * batch is one indexed query, so memory stays flat and an interrupted read resumes exactly.
 */
export async function* readBatches(
  dialect: Dialect,
  db: Kysely<any>,
  plan: TablePlan,
  size: number,
  after: unknown[] | null = null,
): AsyncGenerator<Batch> {
  const keys = columnList(plan.key)
  let last = after
  for (;;) {
    const where = last ? sql`where (${keys}) > (${sql.join(last)})` : sql``
    const result = await sql<Row>`select ${columnList(plan.columns.map((c) => c.name))}
      from ${sql.table(plan.name)} ${where} order by ${keys} limit ${size}`.execute(db)
    if (result.rows.length === 0) return
    const rows = result.rows.map((raw) => portableRow(dialect, plan.columns, raw))
    const final = result.rows[result.rows.length - 1]!
    last = plan.key.map((column) => final[column])
    yield { rows, lastKey: last }
    if (result.rows.length < size) return
  }
}

function portableRow(dialect: Dialect, columns: readonly ColumnPlan[], raw: Row): Row {
  const row: Row = {}
  for (const column of columns) row[column.name] = portable(dialect, column.kind, raw[column.name])
  return row
}

/**
 * Inserts rows into a table of the target, leaving its deferred columns empty for now.
 * Columns the rows do not carry (a table that gained one since the backup) take their default.
 */
export async function insertRows(
  dialect: Dialect,
  db: Kysely<any>,
  plan: TablePlan,
  rows: Row[],
): Promise<void> {
  if (rows.length === 0) return
  const columns = plan.columns.filter((column) => column.name in rows[0]!)
  const deferred = new Set(plan.deferred)
  const values = rows.map((row) =>
    columns.map((column) =>
      deferred.has(column.name) ? null : stored(dialect, column.kind, row[column.name]),
    ),
  )
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_VALUES / columns.length))
  const names = columns.map((column) => column.name)
  for (let start = 0; start < values.length; start += perStatement)
    await dialect.catalog.insertRows(db, plan.name, names, values.slice(start, start + perStatement))
}

/** Writes the deferred columns of rows inserted before, matched by key. */
export async function fillDeferred(
  dialect: Dialect,
  db: Kysely<any>,
  plan: TablePlan,
  rows: Row[],
): Promise<void> {
  if (rows.length === 0 || plan.deferred.length === 0) return
  const names = [...plan.key, ...plan.deferred]
  const kinds = new Map(plan.columns.map((column) => [column.name, column.kind]))
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_VALUES / names.length))
  const matches = sql.join(
    plan.key.map((key) => sql`${sql.ref(`given.${key}`)} = ${sql.ref(`${plan.name}.${key}`)}`),
    sql` and `,
  )
  for (let start = 0; start < rows.length; start += perStatement) {
    const given = rows
      .slice(start, start + perStatement)
      .map(
        (row) => sql`(${sql.join(names.map((name) => stored(dialect, kinds.get(name) ?? null, row[name])))})`,
      )
    // Relation columns and keys hold ids, which both databases compare as text.
    const assignments = sql.join(
      plan.deferred.map(
        (column) =>
          sql`${sql.id(column)} = (select ${sql.ref(`given.${column}`)} from given where ${matches})`,
      ),
    )
    await sql`with given (${columnList(names)}) as (values ${sql.join(given)})
      update ${sql.table(plan.name)} set ${assignments}
      where exists (select 1 from given where ${matches})`.execute(db)
  }
}

/**
 * What a copy compares on both sides: the rows and a checksum of their canonical JSON. The
 * sum of the rows' SHA-256 digests does not depend on their order: PostgreSQL orders text by
 * its collation and SQLite by bytes, and reading either in the other's order would cost a sort.
 */
export class TableChecksum {
  rows = 0
  #sum = 0n

  add(row: Row): void {
    this.rows += 1
    const digest = hash('sha256', canonical(row), 'hex')
    this.#sum = (this.#sum + BigInt(`0x${digest}`)) & ((1n << 256n) - 1n)
  }

  get value(): string {
    return this.#sum.toString(16).padStart(64, '0')
  }
}

/** The checksum of a whole table as it stands, read in batches. */
export async function checksumTable(
  dialect: Dialect,
  db: Kysely<any>,
  plan: TablePlan,
  size: number,
): Promise<TableChecksum> {
  const checksum = new TableChecksum()
  for await (const batch of readBatches(dialect, db, plan, size))
    for (const row of batch.rows) checksum.add(row)
  return checksum
}
