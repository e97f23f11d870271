// Plinth's SQLite settings (src/db/dialects/sqlite/sqlite-dialect.ts), for the floors that
// read its database file: both servers then pay the same fsync on commit, the same foreign
// key check on insert and keep the same page cache.

/** Applies them to a better-sqlite3 database; `sync` is `full` or `normal`. */
export function usePlinthPragmas(database, sync = 'full') {
  database.pragma('journal_mode = WAL')
  database.pragma(`synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`)
  database.pragma('foreign_keys = ON')
  database.pragma('busy_timeout = 5000')
  database.pragma('legacy_alter_table = OFF')
  database.pragma('cache_size = -2000')
}
