import { existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'

/** A field of a PocketBase collection as its `_collections.fields` JSON holds it. */
export interface PocketBaseField {
  id: string
  name: string
  type: string
  system?: boolean
  hidden?: boolean
  required?: boolean
  [option: string]: unknown
}

/** One row of PocketBase's `_collections` (v0.23 and later). */
export interface PocketBaseCollection {
  id: string
  name: string
  type: string
  system: boolean
  fields: PocketBaseField[]
  indexes: string[]
  listRule: string | null
  viewRule: string | null
  createRule: string | null
  updateRule: string | null
  deleteRule: string | null
  /** Auth collections: authRule, passwordAuth, otp, oauth2, …; views: viewQuery. */
  options: Record<string, unknown>
}

export type PocketBaseRow = Record<string, unknown>

const BATCH = 500
// What PocketBase allows as a collection or file name part; anything else never names a path or a table here.
const TABLE_NAME = /^\w{1,255}$/
const PATH_PART = /^[\w-]{1,255}$/
const FILE_NAME = /^[^/\\\0]{1,400}$/

/** A `pb_data` folder opened read-only: its collections, their records and their files. */
export class PocketBaseData {
  private constructor(
    readonly dir: string,
    private readonly db: Kysely<any>,
    readonly collections: PocketBaseCollection[],
  ) {}

  /**
   * Opens and checks `dir`: it must hold a PocketBase data.db of v0.23 or later, readable and
   * not corrupt. Every refusal is an error whose message says what is wrong; nothing is written.
   */
  static async open(dir: string): Promise<PocketBaseData> {
    const folder = resolve(dir)
    if (!existsSync(folder) || !statSync(folder).isDirectory())
      throw new Error(`${folder} is not a folder: give the pb_data folder of a PocketBase.`)
    const file = join(folder, 'data.db')
    if (!existsSync(file)) throw new Error(`${folder} is not a PocketBase pb_data folder: it has no data.db.`)
    let database: Database.Database
    try {
      database = new Database(file, { readonly: true, fileMustExist: true })
    } catch (error) {
      throw unreadable(file, error)
    }
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) })
    try {
      const collections = await readCollections(db, file)
      return new PocketBaseData(folder, db, collections)
    } catch (error) {
      await db.destroy()
      throw error
    }
  }

  /** The records of a collection's table in id order, a batch at a time. */
  async *records(collection: PocketBaseCollection): AsyncGenerator<PocketBaseRow[]> {
    let after: string | null = null
    for (;;) {
      let query = this.db.selectFrom(collection.name).selectAll().orderBy('id').limit(BATCH)
      if (after !== null) query = query.where('id', '>', after)
      const rows = (await query.execute()) as PocketBaseRow[]
      if (rows.length === 0) return
      yield rows
      after = String(rows[rows.length - 1]!.id)
      if (rows.length < BATCH) return
    }
  }

  /** Where PocketBase keeps a file of a record, or null when a name could leave the folder. */
  filePath(collection: PocketBaseCollection, recordId: string, name: string): string | null {
    if (!PATH_PART.test(collection.id) || !PATH_PART.test(recordId)) return null
    if (!FILE_NAME.test(name) || name === '.' || name === '..') return null
    return join(this.dir, 'storage', collection.id, recordId, name)
  }

  close(): Promise<void> {
    return this.db.destroy()
  }
}

function unreadable(file: string, error: unknown): Error {
  return new Error(`${file} is not a readable SQLite database: ${(error as Error).message}.`)
}

async function readCollections(db: Kysely<any>, file: string): Promise<PocketBaseCollection[]> {
  let tables: Set<string>
  try {
    const check = await sql<{ quick_check: string }>`pragma quick_check`.execute(db)
    const problems = check.rows.map((row) => Object.values(row)[0]).filter((value) => value !== 'ok')
    if (problems.length > 0) throw new Error(`it is damaged (${problems.slice(0, 3).join('; ')})`)
    const rows = await sql<{
      name: string
    }>`select name from sqlite_master where type in ('table', 'view')`.execute(db)
    tables = new Set(rows.rows.map((row) => row.name))
  } catch (error) {
    throw unreadable(file, error)
  }
  if (!tables.has('_collections'))
    throw new Error(`${file} is not a PocketBase database: it has no _collections table.`)
  const columns = new Set(
    (await sql<{ name: string }>`select name from pragma_table_info('_collections')`.execute(db)).rows.map(
      (row) => row.name,
    ),
  )
  if (columns.has('schema'))
    throw new Error(
      `${file} was written by PocketBase v0.22 or older, whose layout this import does not read. Start PocketBase v0.23 or newer on it once (it upgrades the data), then import again.`,
    )
  if (!columns.has('fields') || !columns.has('indexes') || !columns.has('options'))
    throw new Error(`${file} has a _collections table of a layout this import does not know.`)
  const rows = await db.selectFrom('_collections').selectAll().orderBy('created').orderBy('name').execute()
  return rows.map((row) => {
    const name = String(row.name)
    const collection: PocketBaseCollection = {
      id: String(row.id),
      name,
      type: String(row.type),
      system: Boolean(row.system),
      fields: parseJson(row.fields, [], `the fields of ${name}`) as PocketBaseField[],
      indexes: parseJson(row.indexes, [], `the indexes of ${name}`) as string[],
      listRule: rule(row.listRule),
      viewRule: rule(row.viewRule),
      createRule: rule(row.createRule),
      updateRule: rule(row.updateRule),
      deleteRule: rule(row.deleteRule),
      options: parseJson(row.options, {}, `the options of ${name}`) as Record<string, unknown>,
    }
    if (!TABLE_NAME.test(name))
      throw new Error(`${file} names a collection ${JSON.stringify(name)}, which is not a PocketBase name.`)
    if (!Array.isArray(collection.fields) || !collection.fields.every(isField))
      throw new Error(`${file} holds fields of ${name} that are not PocketBase fields.`)
    if (collection.type !== 'view' && !tables.has(name))
      throw new Error(`${file} has no table for the collection ${name}.`)
    return collection
  })
}

function rule(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function isField(value: unknown): value is PocketBaseField {
  const field = value as PocketBaseField
  return (
    typeof field === 'object' &&
    field !== null &&
    typeof field.name === 'string' &&
    typeof field.type === 'string'
  )
}

function parseJson(value: unknown, empty: unknown, what: string): unknown {
  if (value === null || value === undefined || value === '') return empty
  try {
    return JSON.parse(String(value))
  } catch {
    throw new Error(`data.db holds ${what} as text that is not JSON.`)
  }
}
