import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Dialect } from './dialect.js'
import { createSqliteDialect } from './dialects/sqlite/sqlite-dialect.js'
import { ReadReplicas } from './read-replicas.js'

export interface DatabaseSettings {
  /** postgres://… or null for the embedded SQLite file in dataDir. */
  databaseUrl: string | null
  dataDir: string
  sqliteSync: 'full' | 'normal'
  statementTimeoutMs: number
  poolSize: number
  /** PostgreSQL: send statements with values as named prepared statements. */
  preparedStatements: boolean
}

/** The SQLite database file of a data folder. */
export function sqliteFile(dataDir: string): string {
  return join(dataDir, 'data.db')
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
      preparedStatements: settings.preparedStatements,
    })
  }
  mkdirSync(settings.dataDir, { recursive: true })
  return createSqliteDialect({
    filename: sqliteFile(settings.dataDir),
    synchronous: settings.sqliteSync,
  })
}

/** How long a read waits to connect to a replica before it reads from the primary instead. */
const REPLICA_CONNECT_TIMEOUT_MS = 2000

/**
 * The read replicas of a PostgreSQL primary. Their connections open on the first read, so
 * a replica that is down at start-up does not stop the node.
 */
export async function openReadReplicas(
  primary: Dialect,
  urls: string[],
  settings: Pick<DatabaseSettings, 'statementTimeoutMs' | 'poolSize' | 'preparedStatements'>,
): Promise<ReadReplicas> {
  const { createPostgresReplica } = await import('./dialects/postgres/postgres-dialect.js')
  const replicas = urls.map((url) =>
    createPostgresReplica({ url, ...settings, connectTimeoutMs: REPLICA_CONNECT_TIMEOUT_MS }, primary.db),
  )
  return new ReadReplicas(primary.db, replicas)
}
