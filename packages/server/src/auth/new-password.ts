import type { Dialect } from '../db/index.js'
import type { RecordChange, RecordService } from '../records/index.js'
import { AuditLog } from './audit.js'
import { SessionStore } from './sessions.js'

/** Whether a record write set a new password (the records API, a reset, `plinth superuser upsert`). */
export function setsNewPassword(change: RecordChange): boolean {
  return (
    change.action === 'update' && change.collection.type === 'auth' && change.written.includes('password')
  )
}

/**
 * A new password ends every session of the record, with its refresh tokens, inside the
 * transaction that writes it: whatever path wrote it, since every one goes through the
 * records service. Access tokens name their session, so they stop with it.
 *
 * Registered where the records service is built, for the server and the CLI alike.
 *
 * @example endSessionsOnNewPassword(dialect, records)
 */
export function endSessionsOnNewPassword(dialect: Dialect, records: RecordService): void {
  const sessions = new SessionStore(dialect)
  const audit = new AuditLog(dialect.db)
  records.onChange(async function endSessions(trx, change) {
    if (!setsNewPassword(change)) return
    const recordId = change.record.id as string
    await sessions.revokeAll(trx, change.collection.id, recordId)
    await audit.record({ event: 'password_changed', collectionId: change.collection.id, recordId }, trx)
  })
}
