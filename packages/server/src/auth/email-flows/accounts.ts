import type { Kysely } from 'kysely'
import { type CollectionDefinition, FieldValueError, fieldKind } from '../../collections/index.js'
import { ValidationError } from '../../errors/index.js'

/** The stored columns the flows need of an auth record. */
export interface Account {
  id: string
  email: string
  verified: boolean
  password: string
}

/**
 * An address as the collection stores it (trimmed, NFC, lower-case), or a 400
 * naming `field`. With `applyDomainRules` the email field's allowed domains apply
 * too: they restrict new addresses, not the lookup of existing ones.
 */
export function normalizeEmail(
  collection: CollectionDefinition,
  raw: string,
  field: string,
  applyDomainRules = false,
): string {
  const definition = collection.fields.find((f) => f.name === 'email')!
  const rules = applyDomainRules
    ? definition
    : { ...definition, onlyDomains: undefined, exceptDomains: undefined }
  try {
    const email = fieldKind('email').normalize(rules, raw) as string
    if (email !== '') return email
  } catch (error) {
    if (!(error instanceof FieldValueError)) throw error
    throw new ValidationError({ [field]: { code: error.code, message: error.message } })
  }
  throw new ValidationError({ [field]: { code: 'required', message: 'is required' } })
}

function toAccount(row: Record<string, unknown> | undefined): Account | null {
  if (!row) return null
  return {
    id: row.id as string,
    email: row.email as string,
    // SQLite keeps booleans as 0/1.
    verified: Boolean(row.verified),
    password: row.password as string,
  }
}

export async function accountByEmail(
  db: Kysely<any>,
  collection: CollectionDefinition,
  email: string,
): Promise<Account | null> {
  return toAccount(
    await db
      .selectFrom(collection.name)
      .select(['id', 'email', 'verified', 'password'])
      .where('email', '=', email)
      .executeTakeFirst(),
  )
}

export async function accountById(
  db: Kysely<any>,
  collection: CollectionDefinition,
  id: string,
): Promise<Account | null> {
  return toAccount(
    await db
      .selectFrom(collection.name)
      .select(['id', 'email', 'verified', 'password'])
      .where('id', '=', id)
      .executeTakeFirst(),
  )
}
