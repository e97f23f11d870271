import type { Kysely } from 'kysely'
import { randomToken, sha256 } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'

export const AUTH_TOKENS_TABLE = '_auth_tokens'

export type TokenPurpose = 'verification' | 'password_reset' | 'email_change' | 'otp'

/** How long each kind of token lives, in seconds. */
export const tokenLifetimes: Record<TokenPurpose, number> = {
  verification: 72 * 3600,
  password_reset: 3600,
  email_change: 3600,
  otp: 600,
}

/** Wrong codes one OTP survives; the next guess finds it spent. */
export const MAX_OTP_ATTEMPTS = 5

/** What a token stands for besides its record: the address it was sent to, a new address, an OTP's code hash. */
export interface TokenData {
  email: string
  newEmail?: string
  codeHash?: string
}

export interface StoredToken {
  hash: string
  purpose: TokenPurpose
  collectionId: string
  /** Null for a decoy: a token made for an unknown address, which can never succeed. */
  recordId: string | null
  data: TokenData
}

export interface IssueOptions {
  purpose: TokenPurpose
  collectionId: string
  recordId: string | null
  data: TokenData
  /** The secret to hand out; a fresh random one unless given (an OTP's id). */
  secret?: string
}

/**
 * Single-use tokens of the email flows. Only a SHA-256 of each is stored; a token
 * is spent by one conditional UPDATE, so two requests racing with the same token
 * cannot both succeed, and a new token of the same purpose spends the older ones.
 */
export class AuthTokenStore {
  constructor(private readonly dialect: Dialect) {}

  /**
   * Stores a new token and returns its secret. A decoy (no record) costs the same
   * two statements and is born expired, so nothing can use it but the OTP flow,
   * which keeps it alive for its own lifetime to answer like a real one.
   */
  async issue(options: IssueOptions, now = new Date()): Promise<string> {
    const secret = options.secret ?? randomToken(32)
    const isDecoy = options.recordId === null
    const lifetime = isDecoy && options.purpose !== 'otp' ? 0 : tokenLifetimes[options.purpose]
    await this.dialect.transaction(async (trx) => {
      await trx
        .updateTable(AUTH_TOKENS_TABLE)
        .set({ used: now.toISOString() })
        .where('collection_id', '=', options.collectionId)
        .where('record_id', '=', options.recordId ?? '')
        .where('purpose', '=', options.purpose)
        .where('used', 'is', null)
        .execute()
      await trx
        .insertInto(AUTH_TOKENS_TABLE)
        .values({
          hash: sha256(secret),
          purpose: options.purpose,
          collection_id: options.collectionId,
          record_id: options.recordId,
          data: JSON.stringify(options.data),
          created: now.toISOString(),
          expires: new Date(now.getTime() + lifetime * 1000).toISOString(),
          used: null,
          attempts: 0,
        })
        .execute()
    })
    return secret
  }

  /** The token, if it is of this purpose and collection, unspent and unexpired. */
  async find(secret: string, purpose: TokenPurpose, collectionId: string): Promise<StoredToken | null> {
    const row = await this.dialect.db
      .selectFrom(AUTH_TOKENS_TABLE)
      .select(['hash', 'purpose', 'collection_id', 'record_id', 'data'])
      .where('hash', '=', sha256(secret))
      .where('purpose', '=', purpose)
      .where('collection_id', '=', collectionId)
      .where('used', 'is', null)
      .where('expires', '>', new Date().toISOString())
      .executeTakeFirst()
    if (!row) return null
    return {
      hash: row.hash,
      purpose: row.purpose,
      collectionId: row.collection_id,
      recordId: row.record_id,
      data: JSON.parse(row.data),
    }
  }

  /** Spends the token inside the caller's transaction; false when another request spent it first. */
  async spend(db: Kysely<any>, token: StoredToken): Promise<boolean> {
    const result = await db
      .updateTable(AUTH_TOKENS_TABLE)
      .set({ used: new Date().toISOString() })
      .where('hash', '=', token.hash)
      .where('used', 'is', null)
      .where('expires', '>', new Date().toISOString())
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /**
   * Claims one of an OTP's attempts before its code is compared, so concurrent
   * guesses cannot outrun the limit; false once the attempts are used up.
   */
  async claimAttempt(token: StoredToken): Promise<boolean> {
    const result = await this.dialect.db
      .updateTable(AUTH_TOKENS_TABLE)
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('hash', '=', token.hash)
      .where('used', 'is', null)
      .where('attempts', '<', MAX_OTP_ATTEMPTS)
      .where('expires', '>', new Date().toISOString())
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /** Deletes tokens past their expiry: spent or not, nothing can use them any more. */
  async prune(now = new Date()): Promise<void> {
    await this.dialect.db.deleteFrom(AUTH_TOKENS_TABLE).where('expires', '<=', now.toISOString()).execute()
  }
}
