import type { Kysely } from 'kysely'
import type { SecretBox } from '../../crypto/index.js'
import { randomToken, sha256 } from '../../crypto/index.js'

export const OAUTH2_STATES_TABLE = '_oauth2_states'

/** How long a started sign-in may take at the provider. */
export const STATE_TTL_MS = 10 * 60 * 1000

/** What a started sign-in remembers until the app comes back with the code. */
export interface PendingSignIn {
  collectionId: string
  provider: string
  redirectURL: string
  codeVerifier: string
  nonce: string
  /** `collectionId/recordId` of the signed-in caller who started it (a link), or null. */
  caller: string | null
}

/**
 * Server-side state of OAuth2 sign-ins. The state value itself only travels through
 * the browser; the table keeps its hash, so a copy of the database cannot finish
 * anybody's sign-in. Each state is single-use and expires after ten minutes.
 */
export class StateStore {
  constructor(
    private readonly db: Kysely<any>,
    private readonly box: SecretBox,
  ) {}

  async create(pending: PendingSignIn, now = new Date()): Promise<string> {
    const state = randomToken(32)
    await this.db.deleteFrom(OAUTH2_STATES_TABLE).where('expires', '<', now.toISOString()).execute()
    await this.db
      .insertInto(OAUTH2_STATES_TABLE)
      .values({
        state_hash: sha256(state),
        collection_id: pending.collectionId,
        provider: pending.provider,
        redirect_url: pending.redirectURL,
        code_verifier: this.box.seal(pending.codeVerifier),
        nonce: pending.nonce,
        caller: pending.caller,
        expires: new Date(now.getTime() + STATE_TTL_MS).toISOString(),
      })
      .execute()
    return state
  }

  /**
   * Takes the state out of the table: the delete is the claim, so of two requests
   * racing with one state only one gets it. Expired or unknown states give null.
   */
  async consume(state: string, now = new Date()): Promise<PendingSignIn | null> {
    const hash = sha256(state)
    const row = await this.db
      .selectFrom(OAUTH2_STATES_TABLE)
      .selectAll()
      .where('state_hash', '=', hash)
      .executeTakeFirst()
    if (!row) return null
    const deleted = await this.db
      .deleteFrom(OAUTH2_STATES_TABLE)
      .where('state_hash', '=', hash)
      .executeTakeFirst()
    if (Number(deleted.numDeletedRows) !== 1 || (row.expires as string) < now.toISOString()) return null
    return {
      collectionId: row.collection_id as string,
      provider: row.provider as string,
      redirectURL: row.redirect_url as string,
      codeVerifier: this.box.open(row.code_verifier as string),
      nonce: row.nonce as string,
      caller: (row.caller as string | null) ?? null,
    }
  }
}
