import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import { hashPassword, needsRehash } from '../crypto/index.js'

/**
 * Replaces a password hash made elsewhere (bcrypt, kept by `plinth import pocketbase`) with
 * argon2id once a sign-in has proved the password: the only moment Plinth holds it. The
 * password is the same, so sessions and tokens stay; a hash changed meanwhile is left alone.
 */
export async function upgradePasswordHash(
  db: Kysely<any>,
  collection: CollectionDefinition,
  recordId: string,
  stored: string,
  password: string,
): Promise<void> {
  if (!needsRehash(stored)) return
  await db
    .updateTable(collection.name)
    .set({ password: await hashPassword(password) })
    .where('id', '=', recordId)
    .where('password', '=', stored)
    .execute()
}
