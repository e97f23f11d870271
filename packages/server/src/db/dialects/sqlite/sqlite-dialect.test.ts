import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, expect, test } from 'vitest'
import { createSqliteDialect } from './sqlite-dialect.js'

const dataDir = mkdtempSync(join(tmpdir(), 'plinth-sqlite-'))
afterEach(() => rmSync(dataDir, { recursive: true, force: true }))

test('the connection journals to a WAL, syncs as configured, checks foreign keys and keeps a 2 MB page cache', async () => {
  const dialect = createSqliteDialect({ filename: join(dataDir, 'data.db'), synchronous: 'full' })
  try {
    const read = async (pragma: string) =>
      Object.values((await sql.raw(`pragma ${pragma}`).execute(dialect.db)).rows[0] as object)[0]
    expect(await read('journal_mode')).toBe('wal')
    expect(await read('synchronous')).toBe(2)
    expect(await read('foreign_keys')).toBe(1)
    expect(await read('cache_size')).toBe(-2000)
  } finally {
    await dialect.close()
  }
})
