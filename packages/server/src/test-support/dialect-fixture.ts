import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Dialect, openDatabase } from '../db/index.js'
import { freshPostgresUrl, type TestDialect } from './databases.js'

/** Opens an empty database of the given dialect; `close` removes every trace. */
export async function openTestDatabase(
  kind: TestDialect,
): Promise<{ dialect: Dialect; dataDir: string; databaseUrl: string | null; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-test-'))
  const pgSchema = kind === 'postgres' ? await freshPostgresUrl() : null
  const databaseUrl = pgSchema?.url ?? null
  const dialect = await openDatabase({
    databaseUrl,
    dataDir,
    sqliteSync: 'normal',
    statementTimeoutMs: 10_000,
    poolSize: 4,
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
