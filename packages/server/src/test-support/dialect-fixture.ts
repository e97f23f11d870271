import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Dialect, openDatabase } from '../db/index.js'
import { freshPostgresUrl, type TestDialect } from './databases.js'
import { migratedPostgresDatabase } from './postgres-template.js'

/**
 * Opens an empty database of the given dialect; `close` removes every trace. `migrated`
 * asks for Plinth's own tables already made, where that is quicker than making them
 * (PostgreSQL copies a migrated template); the app's start finds nothing left to run.
 */
export async function openTestDatabase(
  kind: TestDialect,
  options: { migrated?: boolean } = {},
): Promise<{ dialect: Dialect; dataDir: string; databaseUrl: string | null; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-test-'))
  const pgSchema =
    kind === 'postgres'
      ? ((options.migrated ? await migratedPostgresDatabase() : null) ?? (await freshPostgresUrl()))
      : null
  const databaseUrl = pgSchema?.url ?? null
  const dialect = await openDatabase({
    databaseUrl,
    dataDir,
    sqliteSync: 'normal',
    statementTimeoutMs: 10_000,
    poolSize: 4,
    preparedStatements: true,
  })
  return {
    dialect,
    dataDir,
    databaseUrl,
    async close() {
      await dialect.close().catch(() => {})
      await pgSchema?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
