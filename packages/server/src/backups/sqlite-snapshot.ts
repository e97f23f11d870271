import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * Runs in a worker thread, so a server making its nightly backup keeps answering: VACUUM INTO
 * is one long synchronous statement. Its own read-only connection reads one snapshot (WAL
 * lets the server's writes go on meanwhile) and writes it compacted to a new file.
 */
const SNAPSHOT_WORKER = `
const { workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const database = new Database(workerData.source, { readonly: true, fileMustExist: true })
try {
  database.pragma('busy_timeout = 5000')
  database.prepare('vacuum into ?').run(workerData.target)
} finally {
  database.close()
}
`

/** Writes a consistent copy of the SQLite database `source` to `target`, which must not exist. */
export function snapshotSqlite(source: string, target: string): Promise<void> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  return new Promise((resolve, reject) => {
    const worker = new Worker(SNAPSHOT_WORKER, { eval: true, workerData: { driver, source, target } })
    worker.once('error', reject)
    worker.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`The copy of the database stopped (exit code ${code}).`)),
    )
  })
}
