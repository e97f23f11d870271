import type { Kysely } from 'kysely'
import { randomToken } from '../../crypto/index.js'
import type { SignInMethod } from '../sign-in.js'
import { MFA_CHALLENGES_TABLE } from './migration.js'

const MFA_CHALLENGE_SECONDS = 5 * 60
const MFA_MAX_ATTEMPTS = 5

interface MfaChallenge {
  id: string
  collection_id: string
  record_id: string
  method: SignInMethod
  attempts: number
  expires: string
}

/**
 * A first factor that passed and waits for the second: the `mfaId` a sign-in answers.
 * It lives five minutes, takes five wrong answers and is spent by the right one.
 */
export class MfaChallenges {
  constructor(private readonly db: Kysely<any>) {}

  async create(collectionId: string, recordId: string, method: SignInMethod): Promise<string> {
    const now = Date.now()
    await this.db
      .deleteFrom(MFA_CHALLENGES_TABLE)
      .where('expires', '<=', new Date(now).toISOString())
      .execute()
    const id = randomToken(24)
    await this.db
      .insertInto(MFA_CHALLENGES_TABLE)
      .values({
        id,
        collection_id: collectionId,
        record_id: recordId,
        method,
        attempts: 0,
        expires: new Date(now + MFA_CHALLENGE_SECONDS * 1000).toISOString(),
      })
      .execute()
    return id
  }

  /** The open challenge with this id in this collection, or undefined. */
  async find(id: string, collectionId: string): Promise<MfaChallenge | undefined> {
    const row = await this.open(this.db.selectFrom(MFA_CHALLENGES_TABLE), id)
      .where('collection_id', '=', collectionId)
      .selectAll()
      .executeTakeFirst()
    return row ? { ...(row as MfaChallenge), attempts: Number(row.attempts) } : undefined
  }

  /** Counts a wrong answer; the fifth ends the challenge. */
  async fail(id: string): Promise<void> {
    await this.db
      .updateTable(MFA_CHALLENGES_TABLE)
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .execute()
  }

  /** Spends the challenge; false when a parallel request spent or exhausted it first. */
  async consume(id: string): Promise<boolean> {
    const result = await this.open(this.db.deleteFrom(MFA_CHALLENGES_TABLE), id).executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }

  private open<Q extends { where: (...args: any[]) => any }>(query: Q, id: string): Q {
    return query
      .where('id', '=', id)
      .where('attempts', '<', MFA_MAX_ATTEMPTS)
      .where('expires', '>', new Date().toISOString()) as Q
  }
}
