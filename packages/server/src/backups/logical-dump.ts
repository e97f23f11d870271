import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { exportSchema, readDefinitions } from '../collections/index.js'
import { type Dialect, SYSTEM_MIGRATIONS_TABLE } from '../db/index.js'
import { type Row, readBatches } from './rows.js'
import { planTables } from './tables.js'

/** The collections' complete definitions (system ones and times included), beside the schema file. */
export const DEFINITIONS_ENTRY = 'collections.json'
export const SCHEMA_ENTRY = 'schema.json'
const BATCH_ROWS = 1000

export const tableEntry = (table: string) => `tables/${table}.jsonl`

/** The first line of a table's file: its columns, in the order of each row's values. */
export interface TableHeader {
  table: string
  columns: string[]
  /** A column the database numbers, and the number it would give the next row. */
  serial: { column: string; next: number } | null
}

export interface DumpSummary {
  systemMigrations: string[]
  tables: Record<string, number>
}

/**
 * Writes a logical copy of the database into `folder`: the schema file, the definitions, and
 * every table of Plinth's as JSON lines. Everything is read in one snapshot, in batches, so the
 * copy is consistent while the server keeps writing and memory stays flat however large it is.
 */
export async function dumpDatabase(dialect: Dialect, folder: string): Promise<DumpSummary> {
  await mkdir(join(folder, 'tables'), { recursive: true })
  return dialect.catalog.snapshot(dialect.db, async (trx) => {
    const definitions = await readDefinitions(trx)
    await writeFile(join(folder, SCHEMA_ENTRY), exportSchema(definitions))
    await writeFile(join(folder, DEFINITIONS_ENTRY), `${JSON.stringify(definitions, null, 2)}\n`)
    const migrations = await trx.selectFrom(SYSTEM_MIGRATIONS_TABLE).select('name').orderBy('name').execute()
    const tables: Record<string, number> = {}
    for (const plan of await planTables(dialect, trx, definitions, { withMigrations: true })) {
      const header: TableHeader = {
        table: plan.name,
        columns: plan.columns.map((column) => column.name),
        serial: plan.serial
          ? { column: plan.serial, next: await dialect.catalog.nextSerial(trx, plan.name, plan.serial) }
          : null,
      }
      const out = createWriteStream(join(folder, tableEntry(plan.name)), { flags: 'wx' })
      await writeLine(out, JSON.stringify(header))
      let count = 0
      for await (const batch of readBatches(dialect, trx, plan, BATCH_ROWS))
        for (const row of batch.rows) {
          await writeLine(out, JSON.stringify(header.columns.map((column) => row[column])))
          count++
        }
      out.end()
      await finished(out)
      tables[plan.name] = count
    }
    return { systemMigrations: migrations.map((row) => row.name as string), tables }
  })
}

async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain')
}

/** A table's file of a logical copy: its header, then its rows in batches. */
export async function readTableFile(
  path: string,
  size: number,
  onBatch: (header: TableHeader, rows: Row[]) => Promise<void>,
): Promise<TableHeader> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })
  let header: TableHeader | null = null
  let rows: Row[] = []
  for await (const line of lines) {
    if (line === '') continue
    if (!header) {
      header = JSON.parse(line) as TableHeader
      continue
    }
    const values = JSON.parse(line) as unknown[]
    rows.push(Object.fromEntries(header.columns.map((column, index) => [column, values[index]])))
    if (rows.length === size) {
      await onBatch(header, rows)
      rows = []
    }
  }
  if (!header) throw new Error(`The backup is damaged: ${path} has no header.`)
  if (rows.length > 0) await onBatch(header, rows)
  return header
}
