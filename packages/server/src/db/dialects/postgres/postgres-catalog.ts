import { sql } from 'kysely'
import type { TableCatalog } from '../../table-catalog.js'

/** A table of the current schema by name, as the catalog functions take it. */
const tableOid = (table: string) => sql`to_regclass(format('%I.%I', current_schema(), ${table}::text))`
const sequenceOf = (table: string, column: string) =>
  sql`pg_get_serial_sequence(format('%I.%I', current_schema(), ${table}::text), ${column}::text)`

export const postgresCatalog: TableCatalog = {
  async tables(db) {
    const result = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db)
    return result.rows.map((row) => row.name)
  },

  async columns(db, table) {
    const result = await sql<{ name: string; is_generated: string; is_identity: string }>`
      select column_name as name, is_generated, is_identity from information_schema.columns
      where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(db)
    return result.rows
      .filter((row) => row.is_generated !== 'ALWAYS')
      .map((row) => ({ name: row.name, isSerial: row.is_identity === 'YES' }))
  },

  async primaryKey(db, table) {
    const result = await sql<{ name: string }>`
      select a.attname as name from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = ${tableOid(table)} and i.indisprimary
      order by array_position(i.indkey::int2[], a.attnum)`.execute(db)
    return result.rows.map((row) => row.name)
  },

  async foreignKeys(db, table) {
    const result = await sql<{ target: string; columns: string[] }>`
      select (select relname from pg_class where oid = c.confrelid) as target,
        array(select a.attname from unnest(c.conkey) with ordinality k(attnum, n)
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.n)::text[] as columns
      from pg_constraint c where c.contype = 'f' and c.conrelid = ${tableOid(table)}`.execute(db)
    return result.rows.map((row) => ({ table: row.target, columns: row.columns }))
  },

  async insertRows(db, table, columns, rows) {
    if (rows.length === 0) return
    // A copied row keeps the number its serial column had; identity columns refuse one without this.
    await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.id(c)))})
      overriding system value values ${sql.join(rows.map((row) => sql`(${sql.join(row)})`))}`.execute(db)
  },

  async nextSerial(db, table, column) {
    const result = await sql<{ last: string | number | null; top: string | number | null }>`
      select pg_sequence_last_value(${sequenceOf(table, column)}::regclass) as last,
        (select max(${sql.id(column)}) from ${sql.table(table)}) as top`.execute(db)
    const row = result.rows[0]
    return Math.max(Number(row?.last ?? 0), Number(row?.top ?? 0)) + 1
  },

  async setNextSerial(db, table, column, next) {
    await sql`select setval(${sequenceOf(table, column)}, ${next}, false)`.execute(db)
  },

  snapshot(db, work) {
    return db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        await sql`set transaction read only`.execute(trx)
        return work(trx)
      })
  },
}
