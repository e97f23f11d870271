import type Database from 'better-sqlite3'

/**
 * The settings of a connection to Plinth's SQLite file. This module imports nothing at run
 * time, so the bench's hand-written floors load it to read the same file on the same terms.
 */
export function applySqlitePragmas(database: Database.Database, synchronous: 'full' | 'normal'): void {
  database.pragma('journal_mode = WAL')
  database.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
  database.pragma('foreign_keys = ON')
  database.pragma('busy_timeout = 5000')
  // Renaming a table must also rewrite the foreign keys that point at it.
  database.pragma('legacy_alter_table = OFF')
  // SQLite's own default page cache (2 MB), not the 16 MB better-sqlite3 builds in: the
  // kernel's page cache holds the file anyway, outside the process, and the read cache keeps
  // whole answers, so a larger copy of the pages added to the process's memory and not to speed.
  database.pragma('cache_size = -2000')
}
