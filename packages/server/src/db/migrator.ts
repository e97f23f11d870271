import { type Kysely, sql } from 'kysely'
import type { Dialect } from './dialect.js'

/**
 * A step of Plinth's own schema (system tables). Steps run once, in list order,
 * each in its own schema-change transaction, and are never edited after release:
 * a change is a new step.
 */
export interface SystemMigration {
  name: string
  up(db: Kysely<any>, dialect: Dialect): Promise<void>
}

/** One row per applied step, by name: how far a database's system tables are. */
export const SYSTEM_MIGRATIONS_TABLE = '_system_migrations'

async function ensureTrackingTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable(SYSTEM_MIGRATIONS_TABLE)
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('applied', 'text', (c) => c.notNull())
    .execute()
}

async function readApplied(db: Kysely<any>): Promise<Set<string>> {
  const rows = await db.selectFrom(SYSTEM_MIGRATIONS_TABLE).select('name').execute()
  return new Set(rows.map((row) => row.name as string))
}

export async function appliedSystemMigrations(db: Kysely<any>): Promise<Set<string>> {
  await ensureTrackingTable(db)
  return readApplied(db)
}

/**
 * The steps applied so far, read without the schema lock, so the tracking table is not created
 * here: while it does not exist (a new database), none is.
 */
async function appliedSoFar(db: Kysely<any>): Promise<Set<string>> {
  try {
    return await readApplied(db)
  } catch {
    return new Set()
  }
}

/** Applies the steps not yet applied; safe to run from several nodes at once. */
export async function runSystemMigrations(
  dialect: Dialect,
  migrations: SystemMigration[],
): Promise<string[]> {
  const applied: string[] = []
  // Most starts apply nothing: one read spares each applied step its schema change (on SQLite a
  // check of every foreign key in the database, which grows with the data). Each step is still
  // checked again under the schema lock, where another node may have applied it meanwhile.
  const done = await appliedSoFar(dialect.db)
  for (const migration of migrations.filter((step) => !done.has(step.name))) {
    const didApply = await dialect.schemaChange(async (trx) => {
      await ensureTrackingTable(trx)
      const done = await trx
        .selectFrom(SYSTEM_MIGRATIONS_TABLE)
        .select('name')
        .where('name', '=', migration.name)
        .executeTakeFirst()
      if (done) return false
      await migration.up(trx, dialect)
      await trx
        .insertInto(SYSTEM_MIGRATIONS_TABLE)
        .values({ name: migration.name, applied: new Date().toISOString() })
        .execute()
      return true
    })
    if (didApply) applied.push(migration.name)
  }
  return applied
}

/** Cheap round trip for readiness checks. */
export async function ping(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db)
}
