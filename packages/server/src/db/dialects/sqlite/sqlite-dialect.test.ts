import { sql } from 'kysely'
import { expect, test } from 'vitest'
import { openTestDatabase } from '../../../test-support/dialect-fixture.js'

test('the connection journals to a WAL, syncs as configured, checks foreign keys and keeps a 2 MB page cache', async () => {
  const { dialect, close } = await openTestDatabase('sqlite')
  try {
    const read = async (pragma: string) =>
      Object.values((await sql.raw(`pragma ${pragma}`).execute(dialect.db)).rows[0] as object)[0]
    expect(await read('journal_mode')).toBe('wal')
    expect(await read('synchronous')).toBe(1)
    expect(await read('foreign_keys')).toBe(1)
    expect(await read('cache_size')).toBe(-2000)
  } finally {
    await close()
  }
})
