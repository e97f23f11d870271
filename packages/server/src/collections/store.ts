import { CompiledQuery, type Kysely } from 'kysely'
import type { Dialect } from '../db/index.js'
import type { CollectionDefinition } from './types.js'

export const COLLECTIONS_TABLE = '_collections'
export const MIGRATIONS_TABLE = '_migrations'
/** One row whose counter every collection change bumps, so other processes notice it. */
export const SCHEMA_VERSION_TABLE = '_schema_version'

export interface StoredStatement {
  sql: string
  parameters: unknown[]
}

export interface MigrationRecord {
  id: string
  seq: number
  name: string
  up: StoredStatement[]
  down: StoredStatement[]
  applied: string
  reverted: string | null
}

export async function readDefinitions(db: Kysely<any>): Promise<CollectionDefinition[]> {
  const rows = await db
    .selectFrom(COLLECTIONS_TABLE)
    .select('definition')
    .orderBy('created')
    .orderBy('id')
    .execute()
  return rows.map((row) => JSON.parse(row.definition as string) as CollectionDefinition)
}

export async function readSchemaVersion(db: Kysely<any>): Promise<number> {
  const row = await db
    .selectFrom(SCHEMA_VERSION_TABLE)
    .select('version')
    .where('id', '=', 1)
    .executeTakeFirst()
  return Number(row?.version ?? 0)
}

/** Runs in the transaction of the change, so the counter and the definitions move together. */
export async function bumpSchemaVersion(db: Kysely<any>): Promise<void> {
  await db
    .updateTable(SCHEMA_VERSION_TABLE)
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('id', '=', 1)
    .execute()
}

/** The statements that store a definition (or remove it when `after` is null). */
export function writeDefinition(
  dialect: Dialect,
  before: CollectionDefinition | null,
  after: CollectionDefinition | null,
): CompiledQuery[] {
  const db = dialect.db
  if (!after) return [db.deleteFrom(COLLECTIONS_TABLE).where('id', '=', before!.id).compile()]
  const row = { name: after.name, definition: JSON.stringify(after), updated: after.updated }
  if (!before)
    return [
      db
        .insertInto(COLLECTIONS_TABLE)
        .values({ id: after.id, created: after.created, ...row })
        .compile(),
    ]
  return [db.updateTable(COLLECTIONS_TABLE).set(row).where('id', '=', after.id).compile()]
}

export async function runStatements(
  db: Kysely<any>,
  statements: ReadonlyArray<StoredStatement | CompiledQuery>,
): Promise<void> {
  for (const statement of statements) await db.executeQuery(toCompiled(statement))
}

function toCompiled(statement: StoredStatement | CompiledQuery): CompiledQuery {
  return 'query' in statement ? statement : CompiledQuery.raw(statement.sql, statement.parameters)
}

export function toStored(statements: CompiledQuery[]): StoredStatement[] {
  return statements.map((s) => ({ sql: s.sql, parameters: [...s.parameters] }))
}

function parseMigration(row: Record<string, unknown>): MigrationRecord {
  return {
    id: row.id as string,
    seq: Number(row.seq),
    name: row.name as string,
    up: JSON.parse(row.up as string),
    down: JSON.parse(row.down as string),
    applied: row.applied as string,
    reverted: (row.reverted as string | null) ?? null,
  }
}

export async function listMigrations(db: Kysely<any>): Promise<MigrationRecord[]> {
  const rows = await db.selectFrom(MIGRATIONS_TABLE).selectAll().orderBy('seq').execute()
  return rows.map(parseMigration)
}

/** Appends a migration; reverted ones above the new one can no longer be re-applied and go. */
export async function recordMigration(
  db: Kysely<any>,
  migration: Omit<MigrationRecord, 'seq' | 'reverted'>,
): Promise<void> {
  await db.deleteFrom(MIGRATIONS_TABLE).where('reverted', 'is not', null).execute()
  const top = await db
    .selectFrom(MIGRATIONS_TABLE)
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst()
  await db
    .insertInto(MIGRATIONS_TABLE)
    .values({
      id: migration.id,
      seq: Number(top?.seq ?? 0) + 1,
      name: migration.name,
      up: JSON.stringify(migration.up),
      down: JSON.stringify(migration.down),
      applied: migration.applied,
      reverted: null,
    })
    .execute()
}

export async function markMigration(
  db: Kysely<any>,
  id: string,
  reverted: string | null,
  applied?: string,
): Promise<void> {
  await db
    .updateTable(MIGRATIONS_TABLE)
    .set({ reverted, ...(applied ? { applied } : {}) })
    .where('id', '=', id)
    .execute()
}
