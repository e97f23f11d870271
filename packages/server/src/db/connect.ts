import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Dialect } from './dialect.js'
import { createSqliteDialect } from './dialects/sqlite/sqlite-dialect.js'

export interface DatabaseSettings {
  /** postgres://… or null for the embedded SQLite file in dataDir. */
  databaseUrl: string | null
  dataDir: string
  sqliteSync: 'full' | 'normal'
  statementTimeoutMs: number
  poolSize: number
}

/**
 * Opens the configured database: PostgreSQL when a URL is given, else SQLite in the
 * data folder. The PostgreSQL driver loads only when it is used.
 */
export async function openDatabase(settings: DatabaseSettings): Promise<Dialect> {
  if (settings.databaseUrl) {
    const { createPostgresDialect } = await import('./dialects/postgres/postgres-dialect.js')
    return createPostgresDialect({
      url: settings.databaseUrl,
      statementTimeoutMs: settings.statementTimeoutMs,
      poolSize: settings.poolSize,
    })
  }
  mkdirSync(settings.dataDir, { recursive: true })
  return createSqliteDialect({
    filename: join(settings.dataDir, 'data.db'),
    synchronous: settings.sqliteSync,
  })
}
