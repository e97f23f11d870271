import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'

export const AUDIT_TABLE = '_audit'

export const auditEvents = [
  'sign_in',
  'sign_in_failed',
  'lockout',
  'refresh_reuse',
  'sign_out',
  'session_revoked',
  'password_changed',
  'api_key_created',
  'api_key_revoked',
  'impersonation',
  'mfa_enabled',
  'mfa_failed',
  'mfa_disabled',
  'recovery_code_used',
  'passkey_added',
  'passkey_removed',
  'oauth2_linked',
  'oauth2_unlinked',
  'verified',
  'password_reset',
  'email_changed',
] as const

export type AuditEvent = (typeof auditEvents)[number]

export interface AuditEntry {
  event: AuditEvent
  collectionId?: string | null
  recordId?: string | null
  /** Who acted, when not the record itself (a superuser impersonating, say). */
  actor?: string | null
  ip?: string | null
  detail?: Record<string, unknown>
}

/** Security events, kept in the database and readable by superusers. Never holds secrets. */
export class AuditLog {
  constructor(private readonly db: Kysely<any>) {}

  async record(entry: AuditEntry, db: Kysely<any> = this.db): Promise<void> {
    await db
      .insertInto(AUDIT_TABLE)
      .values({
        id: randomUUID(),
        at: new Date().toISOString(),
        event: entry.event,
        collection_id: entry.collectionId ?? null,
        record_id: entry.recordId ?? null,
        actor: entry.actor ?? null,
        ip: entry.ip ?? null,
        detail: JSON.stringify(entry.detail ?? {}),
      })
      .execute()
  }

  async list(options: { page: number; perPage: number; event?: string; recordId?: string }) {
    let query = this.db.selectFrom(AUDIT_TABLE)
    if (options.event) query = query.where('event', '=', options.event)
    if (options.recordId) query = query.where('record_id', '=', options.recordId)
    const rows = await query
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.perPage)
      .offset((options.page - 1) * options.perPage)
      .execute()
    const count = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()
    const totalItems = Number(count?.n ?? 0)
    return {
      items: rows.map((row) => ({
        id: row.id,
        at: row.at,
        event: row.event,
        collectionId: row.collection_id,
        recordId: row.record_id,
        actor: row.actor,
        ip: row.ip,
        detail: JSON.parse(row.detail as string),
      })),
      page: options.page,
      perPage: options.perPage,
      totalItems,
      totalPages: Math.ceil(totalItems / options.perPage),
    }
  }
}
