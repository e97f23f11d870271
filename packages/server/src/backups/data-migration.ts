import { type Kysely, sql } from 'kysely'
import type { CollectionRegistry, CollectionService } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { copyCollections, schemaOf } from './collections-copy.js'
import { checksumTable, fillDeferred, insertRows, type Row, readBatches } from './rows.js'
import { DATA_MIGRATION_TABLE, heldData, planTables, type TablePlan } from './tables.js'

/** An open Plinth database: its dialect and its collections. */
export interface OpenDatabase {
  dialect: Dialect
  registry: CollectionRegistry
  collections: CollectionService
}

export interface DataMigrationProgress {
  phase: 'rows' | 'relations' | 'verify'
  table: string
  done: number
  total: number
}

export interface DataMigrationOptions {
  /** Names the source in the target's progress table, so a resumed run reads the same one. */
  sourceLabel: string
  batchSize: number
  onProgress(progress: DataMigrationProgress): void
}

export interface VerifiedTable {
  table: string
  rows: number
  checksum: string
}

export interface DataMigrationResult {
  /** Rows the target had from an earlier, interrupted run. */
  resumedRows: number
  tables: VerifiedTable[]
}

/** How far one step got: the key of the last row copied, and how many rows that made. */
interface StepState {
  position: string | null
  rows: number
  isDone: boolean
}

/**
 * Copies a whole Plinth database into another, typically SQLite into PostgreSQL: the
 * collections with their ids, then every table of Plinth's in batches, each batch committed
 * with the key it reached in `_data_migration` on the target, so a run that stops (a crash, a
 * row the target refuses) continues where it stopped. It ends by comparing each table's row
 * count and checksum on both sides, and removes its progress table once they agree.
 */
export async function migrateData(
  source: OpenDatabase,
  target: OpenDatabase,
  options: DataMigrationOptions,
): Promise<DataMigrationResult> {
  const progress = await openProgress(target.dialect, options.sourceLabel)
  const definitions = source.registry.all()
  await copyCollections(target.dialect, target.collections, schemaOf(definitions), definitions)
  const sources = new Map(
    (await planTables(source.dialect, source.dialect.db, definitions, { withMigrations: false })).map(
      (plan) => [plan.name, plan],
    ),
  )
  const plans = await planTables(target.dialect, target.dialect.db, target.registry.all(), {
    withMigrations: false,
  })
  const missing = [...sources.keys()].filter((name) => !plans.some((plan) => plan.name === name))
  if (missing.length > 0)
    throw new Error(`The target has no table ${missing.join(', ')}: is it an older Plinth?`)
  const pairs = plans.flatMap((plan) =>
    sources.has(plan.name) ? [[sources.get(plan.name)!, plan] as const] : [],
  )
  const resumedRows = [...progress.steps]
    .filter(([step]) => step.startsWith('rows:'))
    .reduce((sum, [, state]) => sum + state.rows, 0)

  const run: CopyRun = { source, target, progress, options }
  for (const [from, to] of pairs)
    await copyInBatches(run, { name: `rows:${to.name}`, phase: 'rows', from, to }, (trx, rows) =>
      insertRows(target.dialect, trx, to, rows),
    )
  for (const [from, to] of pairs.filter(([, to]) => to.deferred.length > 0))
    await copyInBatches(run, { name: `relations:${to.name}`, phase: 'relations', from, to }, (trx, rows) =>
      fillDeferred(target.dialect, trx, to, rows),
    )
  for (const [from, to] of pairs)
    if (to.serial && from.serial) {
      const next = await source.dialect.catalog.nextSerial(source.dialect.db, from.name, from.serial)
      await target.dialect.catalog.setNextSerial(target.dialect.db, to.name, to.serial, next)
    }

  const tables = await verify(pairs, source, target, options)
  await target.dialect.db.schema.dropTable(DATA_MIGRATION_TABLE).execute()
  return { resumedRows, tables }
}

/** One run of the command: both databases, the target's progress table and the options. */
interface CopyRun {
  source: OpenDatabase
  target: OpenDatabase
  progress: Progress
  options: DataMigrationOptions
}

/** A step that reads a source table in batches and writes each to the target with how far it got. */
interface BatchStep {
  name: string
  phase: 'rows' | 'relations'
  from: TablePlan
  to: TablePlan
}

async function copyInBatches(
  { source, target, progress, options }: CopyRun,
  { name: step, phase, from, to }: BatchStep,
  write: (trx: Kysely<any>, rows: Row[]) => Promise<void>,
): Promise<void> {
  const state = progress.steps.get(step) ?? { position: null, rows: 0, isDone: false }
  if (state.isDone) return
  const total = await countRows(source.dialect.db, from.name)
  let done = state.rows
  options.onProgress({ phase, table: to.name, done, total })
  const after = state.position === null ? null : (JSON.parse(state.position) as unknown[])
  try {
    for await (const batch of readBatches(
      source.dialect,
      source.dialect.db,
      from,
      options.batchSize,
      after,
    )) {
      await target.dialect.transaction(async (trx) => {
        await write(trx, batch.rows)
        await progress.save(trx, step, {
          position: JSON.stringify(batch.lastKey),
          rows: done + batch.rows.length,
          isDone: false,
        })
      })
      done += batch.rows.length
      options.onProgress({ phase, table: to.name, done, total })
    }
  } catch (error) {
    const where = done === state.rows && after === null ? 'at its first rows' : `after ${done} rows`
    throw new Error(
      `Copying ${to.name} stopped ${where}: ${(error as Error).message}. Nothing of that batch was written; once the cause is fixed, run the command again and it goes on from there.`,
    )
  }
  await target.dialect.transaction((trx) =>
    progress.save(trx, step, { position: null, rows: done, isDone: true }),
  )
}

async function verify(
  pairs: ReadonlyArray<readonly [TablePlan, TablePlan]>,
  source: OpenDatabase,
  target: OpenDatabase,
  options: DataMigrationOptions,
): Promise<VerifiedTable[]> {
  const verified: VerifiedTable[] = []
  const differences: string[] = []
  for (const [index, [from, to]] of pairs.entries()) {
    options.onProgress({ phase: 'verify', table: to.name, done: index, total: pairs.length })
    // Both sides over the same columns: a column only the target has is not part of the copy.
    const shared = (plan: TablePlan, other: TablePlan) => ({
      ...plan,
      columns: plan.columns.filter((column) => other.columns.some((c) => c.name === column.name)),
    })
    const before = await checksumTable(source.dialect, source.dialect.db, shared(from, to), options.batchSize)
    const after = await checksumTable(target.dialect, target.dialect.db, shared(to, from), options.batchSize)
    if (before.rows !== after.rows || before.value !== after.value)
      differences.push(
        before.rows !== after.rows
          ? `${to.name} (${before.rows} rows in the source, ${after.rows} in the target)`
          : `${to.name} (the same ${after.rows} rows, different values)`,
      )
    verified.push({ table: to.name, rows: after.rows, checksum: after.value })
  }
  options.onProgress({ phase: 'verify', table: '', done: pairs.length, total: pairs.length })
  if (differences.length > 0)
    throw new Error(
      `The copy differs from the source in ${differences.join(', ')}. Was the source written to meanwhile? Stop its server, empty the target and run the command again.`,
    )
  return verified
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db)
  return Number(result.rows[0]?.n ?? 0)
}

interface Progress {
  steps: Map<string, StepState>
  save(trx: Kysely<any>, step: string, state: StepState): Promise<void>
}

const SOURCE_STEP = 'source'

/**
 * The target's progress table: made on a first run into an empty database, read on a run
 * after an interruption, which must name the same source.
 */
async function openProgress(dialect: Dialect, sourceLabel: string): Promise<Progress> {
  const db = dialect.db
  const save = async (trx: Kysely<any>, step: string, state: StepState) => {
    const row = { position: state.position, rows: state.rows, done: state.isDone ? 1 : 0 }
    await trx
      .insertInto(DATA_MIGRATION_TABLE)
      .values({ step, ...row })
      .onConflict((conflict) => conflict.column('step').doUpdateSet(row))
      .execute()
  }
  if (!(await dialect.catalog.tables(db)).includes(DATA_MIGRATION_TABLE)) {
    const held = await heldData(dialect, db)
    if (held.length > 0)
      throw new Error(
        `The target database is not empty (it holds ${held.join(', ')}): migrate into an empty database.`,
      )
    await dialect.schemaChange(async (trx) => {
      await trx.schema
        .createTable(DATA_MIGRATION_TABLE)
        .addColumn('step', 'text', (c) => c.primaryKey())
        .addColumn('position', 'text')
        .addColumn('rows', 'bigint', (c) => c.notNull())
        .addColumn('done', 'integer', (c) => c.notNull())
        .execute()
      await save(trx, SOURCE_STEP, { position: sourceLabel, rows: 0, isDone: true })
    })
  }
  const rows = await db.selectFrom(DATA_MIGRATION_TABLE).selectAll().execute()
  const steps = new Map<string, StepState>(
    rows.map((row) => [
      row.step as string,
      {
        position: (row.position as string | null) ?? null,
        rows: Number(row.rows),
        isDone: Number(row.done) === 1,
      },
    ]),
  )
  const from = steps.get(SOURCE_STEP)?.position
  if (from !== sourceLabel)
    throw new Error(
      `The target holds an unfinished migration from ${from}: finish it with --from ${from}, or migrate into an empty database.`,
    )
  steps.delete(SOURCE_STEP)
  return { steps, save }
}
