import { sql } from 'kysely'
import type { TableCatalog } from '../../table-catalog.js'

export const sqliteCatalog: TableCatalog = {
  async tables(db) {
    const result = await sql<{ name: string }>`
      select name from pragma_table_list where schema = 'main' and type = 'table'
      and name not like 'sqlite\_%' escape '\\' order by name`.execute(db)
    return result.rows.map((row) => row.name)
  },

  async columns(db, table) {
    // Hidden columns (generated or of virtual tables) are computed, never written.
    const result = await sql<{ name: string; type: string; pk: number; hidden: number }>`
      select name, type, pk, hidden from pragma_table_xinfo(${table}) order by cid`.execute(db)
    const isAutoIncrement = await hasAutoIncrement(db, table)
    return result.rows
      .filter((row) => row.hidden === 0)
      .map((row) => ({
        name: row.name,
        isSerial: isAutoIncrement && row.pk === 1 && row.type.toLowerCase() === 'integer',
      }))
  },

  async primaryKey(db, table) {
    const result = await sql<{ name: string }>`
      select name from pragma_table_info(${table}) where pk > 0 order by pk`.execute(db)
    return result.rows.map((row) => row.name)
  },

  async foreignKeys(db, table) {
    const result = await sql<{ id: number; target: string; column: string }>`
      select id, "table" as target, "from" as column from pragma_foreign_key_list(${table})
      order by id, seq`.execute(db)
    const keys = new Map<number, { columns: string[]; table: string }>()
    for (const row of result.rows) {
      const key = keys.get(row.id) ?? { columns: [], table: row.target }
      key.columns.push(row.column)
      keys.set(row.id, key)
    }
    return [...keys.values()]
  },

  async insertRows(db, table, columns, rows) {
    if (rows.length === 0) return
    await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.id(c)))})
      values ${sql.join(rows.map((row) => sql`(${sql.join(row)})`))}`.execute(db)
  },

  async nextSerial(db, table, column) {
    // sqlite_sequence holds the largest number AUTOINCREMENT ever gave, kept after the row is deleted.
    const result = await sql<{ given: number | null; top: number | null }>`
      select (select seq from sqlite_sequence where name = ${table}) as given,
        (select max(${sql.id(column)}) from ${sql.table(table)}) as top`.execute(db)
    const row = result.rows[0]
    return Math.max(Number(row?.given ?? 0), Number(row?.top ?? 0)) + 1
  },

  async setNextSerial(db, table, _column, next) {
    const updated = await sql`update sqlite_sequence set seq = ${next - 1} where name = ${table}`.execute(db)
    if (Number(updated.numAffectedRows ?? 0) === 0)
      await sql`insert into sqlite_sequence (name, seq) values (${table}, ${next - 1})`.execute(db)
  },

  snapshot(db, work) {
    // A deferred transaction reads one snapshot in WAL mode without taking the write lock,
    // which the driver's own transactions (BEGIN IMMEDIATE) would.
    return db.connection().execute(async (connection) => {
      await sql`begin`.execute(connection)
      try {
        return await work(connection)
      } finally {
        await sql`commit`.execute(connection)
      }
    })
  },
}

async function hasAutoIncrement(db: Parameters<TableCatalog['tables']>[0], table: string): Promise<boolean> {
  const result = await sql<{ found: number }>`
    select count(*) as found from sqlite_master
    where type = 'table' and name = ${table} and sql like '%autoincrement%'`.execute(db)
  return Number(result.rows[0]?.found ?? 0) > 0
}
