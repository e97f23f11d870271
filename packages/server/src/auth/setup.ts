import type { Kysely } from 'kysely'
import { randomToken, sha256 } from '../crypto/index.js'
import { ConflictError, UnauthorizedError } from '../errors/index.js'
import { superuser } from '../identity/index.js'
import type { RecordService } from '../records/index.js'
import { countSuperusers } from './superusers.js'
import { SUPERUSERS } from './tokens.js'

export const SETUP_TOKENS_TABLE = '_setup_tokens'
const SETUP_TTL_MS = 60 * 60 * 1000

/**
 * When no superuser exists, makes a single-use setup token (valid one hour) and
 * returns the link for the log. The token rides in the fragment, which browsers
 * never send, so it stays out of every access log.
 */
export async function createSetupLink(db: Kysely<any>, publicUrl: string): Promise<string | null> {
  if ((await countSuperusers(db)) > 0) return null
  const token = randomToken()
  await db.deleteFrom(SETUP_TOKENS_TABLE).execute()
  await db
    .insertInto(SETUP_TOKENS_TABLE)
    .values({ hash: sha256(token), expires: new Date(Date.now() + SETUP_TTL_MS).toISOString() })
    .execute()
  return `${publicUrl}/_/setup#token=${token}`
}

/** Spends the setup token and creates the first superuser, all in one transaction. */
export async function completeSetup(records: RecordService, token: string, body: Record<string, unknown>) {
  return records.batch(superuser, async (scope) => {
    const trx = scope.db
    if ((await countSuperusers(trx)) > 0)
      throw new ConflictError('setup_done', 'A superuser exists already; sign in instead.')
    const spent = await trx
      .deleteFrom(SETUP_TOKENS_TABLE)
      .where('hash', '=', sha256(token))
      .where('expires', '>', new Date().toISOString())
      .executeTakeFirst()
    if (Number(spent.numDeletedRows) !== 1)
      throw new UnauthorizedError(
        'The setup link is not valid or has expired; restart the server for a new one.',
        'invalid_token',
      )
    const created = await scope.create(SUPERUSERS, { ...body, verified: true })
    return created.record
  })
}
