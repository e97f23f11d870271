import type { Kysely } from 'kysely'
import { type CollectionDefinition, systemFieldsFor } from '../collections/index.js'
import { superuser } from '../identity/index.js'
import type { RecordService } from '../records/index.js'
import { SUPERUSERS } from './tokens.js'

/** The built-in auth collection of superusers; its rules stay null (superusers only). */
export function superusersDefinition(now: string): CollectionDefinition {
  return {
    id: 'sys_superusers',
    name: SUPERUSERS,
    type: 'auth',
    system: true,
    fields: systemFieldsFor('auth'),
    indexes: [{ id: 'sys_email_unique', fields: ['email'], unique: true }],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    created: now,
    updated: now,
  }
}

export async function countSuperusers(db: Kysely<any>): Promise<number> {
  const row = await db
    .selectFrom(SUPERUSERS)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** Creates the superuser, or sets a new password when the email exists. Returns whether it was created. */
export async function upsertSuperuser(
  records: RecordService,
  email: string,
  password: string,
): Promise<'created' | 'updated'> {
  const normalized = email.trim().normalize('NFC').toLowerCase()
  const existing = await records.list(superuser, SUPERUSERS, {
    page: 1,
    perPage: 1,
    filter: `email = ${JSON.stringify(normalized)}`,
    sort: '',
    skipTotal: true,
  })
  const body = { password, passwordConfirm: password }
  const first = existing.items[0]
  if (first) {
    await records.update(superuser, SUPERUSERS, first.id as string, body)
    return 'updated'
  }
  await records.create(superuser, SUPERUSERS, { email, ...body, verified: true })
  return 'created'
}
