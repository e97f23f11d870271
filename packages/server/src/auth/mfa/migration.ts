import type { Kysely } from 'kysely'
import type { SystemMigration } from '../../db/index.js'

export const TOTP_TABLE = '_mfa_totp'
export const RECOVERY_CODES_TABLE = '_mfa_recovery_codes'
export const MFA_CHALLENGES_TABLE = '_mfa_challenges'
export const PASSKEYS_TABLE = '_passkeys'
export const WEBAUTHN_CHALLENGES_TABLE = '_webauthn_challenges'

/** The tables below; each row belongs to an auth collection (`collection_id`). */
export const mfaTables = [
  TOTP_TABLE,
  RECOVERY_CODES_TABLE,
  MFA_CHALLENGES_TABLE,
  PASSKEYS_TABLE,
  WEBAUTHN_CHALLENGES_TABLE,
] as const

/** TOTP enrolments, recovery codes, pending second-factor challenges and passkeys. */
export const mfaMigration: SystemMigration = {
  name: '0030_auth_mfa',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(TOTP_TABLE)
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      // null while the enrolment waits for its first code
      .addColumn('enabled', 'text')
      // The last accepted time step: a code is good once (RFC 6238 §5.2).
      .addColumn('last_step', 'bigint')
      .addColumn('created', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('_mfa_totp_pk', ['collection_id', 'record_id'])
      .execute()
    await db.schema
      .createTable(RECOVERY_CODES_TABLE)
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('used', 'text')
      .addColumn('created', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('_mfa_recovery_codes_by_record')
      .on(RECOVERY_CODES_TABLE)
      .columns(['collection_id', 'record_id'])
      .execute()
    await db.schema
      .createTable(MFA_CHALLENGES_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('expires', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('_mfa_challenges_by_expires')
      .on(MFA_CHALLENGES_TABLE)
      .column('expires')
      .execute()
    await db.schema
      .createTable(PASSKEYS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('counter', 'bigint', (c) => c.notNull())
      .addColumn('transports', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .addColumn('last_used', 'text')
      .execute()
    await db.schema
      .createIndex('_passkeys_by_record')
      .on(PASSKEYS_TABLE)
      .columns(['collection_id', 'record_id'])
      .execute()
    await db.schema
      .createTable(WEBAUTHN_CHALLENGES_TABLE)
      .addColumn('challenge', 'text', (c) => c.primaryKey())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text')
      .addColumn('mfa_id', 'text')
      .addColumn('expires', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('_webauthn_challenges_by_expires')
      .on(WEBAUTHN_CHALLENGES_TABLE)
      .column('expires')
      .execute()
  },
}
