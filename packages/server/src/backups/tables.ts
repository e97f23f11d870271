import { type Kysely, sql } from 'kysely'
import {
  COLLECTIONS_TABLE,
  type CollectionDefinition,
  hasColumn,
  isMultiRelation,
  isView,
  junctionTableName,
  MIGRATIONS_TABLE,
  readDefinitions,
  SCHEMA_VERSION_TABLE,
  storageKind,
} from '../collections/index.js'
import {
  type CatalogForeignKey,
  type Dialect,
  type StorageKind,
  SYSTEM_MIGRATIONS_TABLE,
} from '../db/index.js'

/** Where an interrupted move from SQLite to PostgreSQL keeps how far it got, on the target. */
export const DATA_MIGRATION_TABLE = '_data_migration'

export interface ColumnPlan {
  name: string
  /** How a field keeps its values; null for columns kept alike on every database (ids, system columns). */
  kind: StorageKind | null
}

/** One table as a copy reads and writes it. */
export interface TablePlan {
  name: string
  columns: ColumnPlan[]
  /** The primary key: rows are read in its order, in batches that resume after the last key. */
  key: string[]
  /** A column the database numbers itself, whose next number is copied too. */
  serial: string | null
  /**
   * Relation columns written once every table has its rows, because they point at rows copied
   * later: their own table's, or a table's in a cycle of relations.
   */
  deferred: string[]
}

/**
 * Tables a copy does not carry: the target's collection service and migrations make them.
 * Collection migrations hold SQL of the database they ran on, so they travel only between
 * databases of one kind.
 */
function isBookkeeping(table: string, withMigrations: boolean): boolean {
  return (
    table === COLLECTIONS_TABLE ||
    table === SCHEMA_VERSION_TABLE ||
    table === SYSTEM_MIGRATIONS_TABLE ||
    table === DATA_MIGRATION_TABLE ||
    (table === MIGRATIONS_TABLE && !withMigrations)
  )
}

/**
 * Plinth's tables in `db`, in the order a copy fills them: the tables of the collections, the
 * junction tables of multi relations, and the system tables (names starting with `_`) that hold
 * state. Other tables of the schema are not Plinth's and are left out.
 */
export async function planTables(
  dialect: Dialect,
  db: Kysely<any>,
  definitions: readonly CollectionDefinition[],
  options: { withMigrations: boolean },
): Promise<TablePlan[]> {
  const catalog = dialect.catalog
  const existing = await catalog.tables(db)
  const fieldKinds = new Map<string, Map<string, StorageKind>>()
  const junctions = new Set<string>()
  for (const definition of definitions) {
    if (isView(definition)) continue
    const kinds = new Map<string, StorageKind>()
    for (const field of definition.fields) {
      if (field.name !== 'id' && hasColumn(field)) kinds.set(field.name, storageKind(field))
      if (isMultiRelation(field)) junctions.add(junctionTableName(field))
    }
    fieldKinds.set(definition.name, kinds)
  }
  const names = existing.filter(
    (table) =>
      fieldKinds.has(table) ||
      junctions.has(table) ||
      (table.startsWith('_') && !isBookkeeping(table, options.withMigrations)),
  )
  const plans: TablePlan[] = []
  const references = new Map<string, CatalogForeignKey[]>()
  for (const name of names) {
    const key = await catalog.primaryKey(db, name)
    if (key.length === 0) throw new Error(`The table ${name} has no primary key, so it cannot be copied.`)
    const columns = await catalog.columns(db, name)
    const kinds = fieldKinds.get(name)
    plans.push({
      name,
      columns: columns.map((column) => ({ name: column.name, kind: kinds?.get(column.name) ?? null })),
      key,
      serial: columns.find((column) => column.isSerial)?.name ?? null,
      deferred: [],
    })
    references.set(name, await catalog.foreignKeys(db, name))
  }
  return inReferenceOrder(plans, references)
}

/** Referenced tables first; where relations make a cycle, the columns closing it are deferred. */
function inReferenceOrder(plans: TablePlan[], references: Map<string, CatalogForeignKey[]>): TablePlan[] {
  const copied = new Set(plans.map((plan) => plan.name))
  const placed = new Set<string>()
  const isPending = (from: TablePlan, key: CatalogForeignKey) =>
    copied.has(key.table) && (key.table === from.name || !placed.has(key.table))
  const order: TablePlan[] = []
  let remaining = plans
  while (remaining.length > 0) {
    const ready = remaining.find((plan) =>
      references.get(plan.name)!.every((key) => key.table === plan.name || !isPending(plan, key)),
    )
    const next = ready ?? remaining[0]!
    next.deferred = references
      .get(next.name)!
      .filter((key) => isPending(next, key))
      .flatMap((key) => key.columns)
    placed.add(next.name)
    order.push(next)
    remaining = remaining.filter((plan) => plan !== next)
  }
  return order
}

/**
 * What makes a database more than an empty Plinth: its user collections, and its tables of
 * Plinth's that hold rows (a server that ran once has made a signing key). Empty when none.
 */
export async function heldData(dialect: Dialect, db: Kysely<any>): Promise<string[]> {
  const tables = await dialect.catalog.tables(db)
  const held: string[] = []
  if (tables.includes(COLLECTIONS_TABLE))
    for (const definition of await readDefinitions(db))
      if (!definition.system) held.push(`the collection ${definition.name}`)
  for (const table of tables) {
    if (!table.startsWith('_') || isBookkeeping(table, true)) continue
    const row = await db.selectFrom(table).select(sql.lit(1).as('found')).limit(1).executeTakeFirst()
    if (row) held.push(table)
  }
  return held
}
