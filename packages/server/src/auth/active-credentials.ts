import type { Kysely } from 'kysely'
import { API_KEYS_TABLE } from './api-keys/index.js'
import { SESSIONS_TABLE } from './sessions.js'

// Bound parameters per statement stay far below SQLite's and PostgreSQL's limits.
const CHUNK = 500

export interface ActiveCredentials {
  sessions: Set<string>
  apiKeys: Set<string>
}

/**
 * Which of these sessions and API keys are still in force (neither revoked nor expired):
 * one query per kind for up to 500 ids, so long-lived connections (realtime) learn of a
 * sign-out, a new password or a revoked key without a query each.
 *
 * @example
 * const { sessions } = await activeCredentials(db, ['4f…'], [])
 * if (!sessions.has('4f…')) endStream()
 */
export async function activeCredentials(
  db: Kysely<any>,
  sessionIds: readonly string[],
  apiKeyIds: readonly string[],
  now = Date.now(),
): Promise<ActiveCredentials> {
  const at = new Date(now).toISOString()
  const active: ActiveCredentials = { sessions: new Set(), apiKeys: new Set() }
  for (const [table, ids, found] of [
    [SESSIONS_TABLE, sessionIds, active.sessions],
    [API_KEYS_TABLE, apiKeyIds, active.apiKeys],
  ] as const) {
    for (let start = 0; start < ids.length; start += CHUNK) {
      const rows = await db
        .selectFrom(table)
        .select('id')
        .where('id', 'in', ids.slice(start, start + CHUNK))
        .where('revoked', 'is', null)
        .where('expires', '>', at)
        .execute()
      for (const row of rows) found.add(String(row.id))
    }
  }
  return active
}
