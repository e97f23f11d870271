import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { Dialect } from '../../dialect.js'
import { createSqliteDialect } from './sqlite-dialect.js'

describe('SQLite transactions that ask together', () => {
  let dataDir: string
  let filename: string
  let dialect: Dialect
  let observer: Database.Database

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plinth-group-'))
    filename = join(dataDir, 'data.db')
    dialect = createSqliteDialect({ filename, synchronous: 'full' })
    await dialect.db.schema
      .createTable('things')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .execute()
    observer = new Database(filename, { readonly: true })
  })
  afterEach(async () => {
    observer.close()
    await dialect.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const committed = () =>
    (observer.prepare('select id from things order by id').pluck().all() as string[]).join()
  const insert = (trx: Kysely<any>, id: string) => trx.insertInto('things').values({ id }).execute()

  test('commit together: another connection sees none of them before the last has run', async () => {
    const seenByOthers: string[] = []
    const ids = ['a', 'b', 'c', 'd']
    const results = await Promise.all(
      ids.map((id) =>
        dialect.transaction(async (trx) => {
          await insert(trx, id)
          seenByOthers.push(committed())
          return id
        }),
      ),
    )
    expect(results).toEqual(ids)
    expect(seenByOthers).toEqual(['', '', '', ''])
    expect(committed()).toBe('a,b,c,d')
  })

  test('one that fails undoes only its own work and keeps its own error', async () => {
    const outcomes = await Promise.allSettled([
      dialect.transaction((trx) => insert(trx, 'a')),
      dialect.transaction(async (trx) => {
        await insert(trx, 'b')
        await insert(trx, 'a')
      }),
      dialect.transaction((trx) => insert(trx, 'c')),
    ])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/)
    expect(committed()).toBe('a,c')
  })

  test('when SQLite ends the whole transaction, those that ran with it fail and those after run anew', async () => {
    const outcomes = await Promise.allSettled([
      dialect.transaction((trx) => insert(trx, 'a')),
      dialect.transaction(async (trx) => {
        await sql`rollback`.execute(trx)
        throw new Error('the transaction is gone')
      }),
      dialect.transaction((trx) => insert(trx, 'c')),
    ])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'fulfilled'])
    for (const outcome of outcomes.slice(0, 2))
      expect((outcome as PromiseRejectedResult).reason.message).toBe('the transaction is gone')
    expect(committed()).toBe('c')
  })

  test('a group that cannot begin fails those waiting, and the next one begins', async () => {
    const anotherWriter = new Database(filename)
    anotherWriter.prepare('begin immediate').run()
    try {
      const outcomes = await Promise.allSettled([
        dialect.transaction((trx) => insert(trx, 'a')),
        dialect.transaction((trx) => insert(trx, 'b')),
      ])
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected'])
      expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/database is locked/)
    } finally {
      anotherWriter.prepare('rollback').run()
      anotherWriter.close()
    }
    await dialect.transaction((trx) => insert(trx, 'c'))
    expect(committed()).toBe('c')
  }, 20_000)

  test('a read asked for during a group waits for its commit', async () => {
    let readDuringGroup: Promise<unknown> | undefined
    await Promise.all([
      dialect.transaction(async (trx) => {
        await insert(trx, 'a')
        readDuringGroup = dialect.db.selectFrom('things').select('id').orderBy('id').execute()
      }),
      dialect.transaction((trx) => insert(trx, 'b')),
    ])
    expect(await readDuringGroup).toEqual([{ id: 'a' }, { id: 'b' }])
  })

  test('more than a group holds all commit, in later groups', async () => {
    const ids = Array.from({ length: 150 }, (_, index) => String(index).padStart(3, '0'))
    const results = await Promise.all(
      ids.map((id) =>
        dialect.transaction(async (trx) => {
          await insert(trx, id)
          return id
        }),
      ),
    )
    expect(results).toEqual(ids)
    expect(committed()).toBe(ids.join())
  })
})
