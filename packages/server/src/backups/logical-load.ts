import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Kysely, sql } from 'kysely'
import {
  applySchemaStep,
  type CollectionDefinition,
  CollectionRegistry,
  CollectionService,
  MIGRATIONS_TABLE,
  planSchemaImport,
} from '../collections/index.js'
import {
  appliedSystemMigrations,
  type Dialect,
  runSystemMigrations,
  type SystemMigration,
} from '../db/index.js'
import { copyCollections, schemaOf } from './collections-copy.js'
import { DEFINITIONS_ENTRY, readTableFile, tableEntry } from './logical-dump.js'
import type { Manifest } from './manifest.js'
import { fillDeferred, insertRows } from './rows.js'
import { heldData, planTables, type TablePlan } from './tables.js'

const BATCH_ROWS = 500

/**
 * A dialect whose every statement and transaction runs inside `trx`: the collection service
 * and the system migrations then take part in one transaction, which commits or rolls back whole.
 */
function withinTransaction(dialect: Dialect, trx: Kysely<any>): Dialect {
  return {
    ...dialect,
    db: trx,
    schemaChange: (work) => work(trx),
    transaction: (work) => work(trx),
    close: async () => {},
  }
}

/**
 * Loads a logical copy (unpacked in `folder`) into a database in one transaction: Plinth's own
 * tables, the collections with their ids, then the rows, table after table in reference order.
 * A database that already holds data is refused, or with `replace` emptied first, in the same
 * transaction. Nothing is changed unless all of it succeeds.
 */
export async function loadLogicalCopy(
  dialect: Dialect,
  folder: string,
  manifest: Manifest,
  systemMigrations: SystemMigration[],
  options: { replace: boolean; describeTarget: string },
): Promise<void> {
  const definitions = JSON.parse(
    await readFile(join(folder, DEFINITIONS_ENTRY), 'utf8'),
  ) as CollectionDefinition[]
  await dialect.schemaChange(async (trx) => {
    const target = withinTransaction(dialect, trx)
    const unknown = [...(await appliedSystemMigrations(trx))].filter(
      (name) => !systemMigrations.some((migration) => migration.name === name),
    )
    if (unknown.length > 0)
      throw new Error(
        `${options.describeTarget} was used by a newer Plinth (${unknown.join(', ')}); upgrade Plinth.`,
      )
    const held = await heldData(target, trx)
    if (held.length > 0 && !options.replace)
      throw new Error(
        `${options.describeTarget} is not empty (it holds ${held.join(', ')}): restore into an empty one, or pass --force to replace it.`,
      )
    await runSystemMigrations(target, systemMigrations)
    const registry = new CollectionRegistry()
    const collections = new CollectionService(target, registry)
    await collections.load()
    if (held.length > 0) await removeEverything(target, collections, registry)
    await copyCollections(target, collections, schemaOf(definitions), definitions)
    const isSameDialect = manifest.dialect === dialect.name
    const plans = await planTables(target, trx, registry.all(), { withMigrations: isSameDialect })
    // The collections were just made here, each recording a migration; the copy's own history replaces them.
    if (isSameDialect) await trx.deleteFrom(MIGRATIONS_TABLE).execute()
    for (const plan of plans) await loadTable(target, folder, plan, manifest)
    for (const plan of plans.filter((p) => p.deferred.length > 0))
      await readTableFile(join(folder, tableEntry(plan.name)), BATCH_ROWS, (_header, rows) =>
        fillDeferred(target, trx, plan, rows),
      )
    await checkCounts(trx, plans, manifest)
  })
}

async function loadTable(
  dialect: Dialect,
  folder: string,
  plan: TablePlan,
  manifest: Manifest,
): Promise<void> {
  const path = join(folder, tableEntry(plan.name))
  // A table Plinth added after the backup was made starts empty.
  if (!existsSync(path) && !(plan.name in (manifest.tables ?? {}))) return
  const header = await readTableFile(path, BATCH_ROWS, (_header, rows) =>
    insertRows(dialect, dialect.db, plan, rows),
  )
  if (plan.serial && header.serial)
    await dialect.catalog.setNextSerial(dialect.db, plan.name, plan.serial, header.serial.next)
}

async function checkCounts(trx: Kysely<any>, plans: TablePlan[], manifest: Manifest): Promise<void> {
  for (const plan of plans) {
    const expected = manifest.tables?.[plan.name]
    if (expected === undefined) continue
    const result = await sql<{
      n: number | string
    }>`select count(*) as n from ${sql.table(plan.name)}`.execute(trx)
    const found = Number(result.rows[0]?.n ?? 0)
    if (found !== expected)
      throw new Error(
        `The restore of ${plan.name} gave ${found} rows instead of ${expected}; nothing was changed.`,
      )
  }
}

/** Deletes every collection (through the service, so their tables, triggers and views go) and every row of Plinth's. */
async function removeEverything(
  dialect: Dialect,
  collections: CollectionService,
  registry: CollectionRegistry,
): Promise<void> {
  const plan = planSchemaImport(collections.list(), { plinth: 1, collections: [] }, { deleteMissing: true })
  for (const step of plan.steps) await applySchemaStep(collections, step)
  const tables = await planTables(dialect, dialect.db, registry.all(), { withMigrations: true })
  for (const table of tables.reverse()) await dialect.db.deleteFrom(table.name).execute()
}
