import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import { API_KEYS_TABLE } from './api-keys/index.js'
import { AUTH_TOKENS_TABLE } from './email-flows/index.js'
import { SIGN_IN_FAILURES_TABLE } from './lockout.js'
import { mfaTables } from './mfa/index.js'
import { oauth2Tables } from './oauth2/index.js'
import { REFRESH_TOKENS_TABLE, SESSIONS_TABLE } from './sessions.js'

/**
 * Plinth's own tables whose rows belong to an auth collection, by `collection_id`.
 * The audit log is not one of them: it is the account of what happened, and a
 * deleted collection is part of that.
 */
const tablesOfAuthCollections = [
  SESSIONS_TABLE,
  API_KEYS_TABLE,
  AUTH_TOKENS_TABLE,
  SIGN_IN_FAILURES_TABLE,
  ...mfaTables,
  ...oauth2Tables,
]

/**
 * Removes what Plinth keeps for the records of an auth collection that is being
 * dropped, inside the same transaction. Left behind, sessions, API keys, second
 * factors and linked provider accounts would come back to life for a collection
 * created again with the same id (schema files keep ids) and records created with
 * the same ids (clients may choose them).
 *
 * @example collections.onDrop(forgetAuthCollection)
 */
export async function forgetAuthCollection(
  trx: Kysely<any>,
  collection: CollectionDefinition,
): Promise<void> {
  if (collection.type !== 'auth') return
  // Not left to ON DELETE CASCADE: SQLite schema changes run with foreign keys off,
  // and end with a foreign key check that orphaned refresh tokens would fail.
  await trx
    .deleteFrom(REFRESH_TOKENS_TABLE)
    .where(
      'session_id',
      'in',
      trx.selectFrom(SESSIONS_TABLE).select('id').where('collection_id', '=', collection.id),
    )
    .execute()
  for (const table of tablesOfAuthCollections)
    await trx.deleteFrom(table).where('collection_id', '=', collection.id).execute()
}
