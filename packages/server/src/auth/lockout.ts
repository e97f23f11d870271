import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import { sha256 } from '../crypto/index.js'
import { PlinthError } from '../errors/index.js'

export const SIGN_IN_FAILURES_TABLE = '_sign_in_failures'

export interface LockoutPolicy {
  maxFailures: number
  windowSeconds: number
}

export const defaultLockout: LockoutPolicy = { maxFailures: 10, windowSeconds: 15 * 60 }

/**
 * Counts failed sign-ins per identity string (hashed; the same for identities that
 * do not exist, so the lockout reveals nothing) and refuses further attempts with
 * 429 once too many fell within the window. Kept in the database, so every node agrees.
 */
export class Lockout {
  /**
   * @param kind Keeps counters of another kind of secret apart from password failures
   *   (second factors: their identities are record ids, not strings anyone types).
   */
  constructor(
    private readonly db: Kysely<any>,
    private readonly policy: LockoutPolicy = defaultLockout,
    private readonly kind?: string,
  ) {}

  private key(collection: CollectionDefinition, identity: string): string {
    const scope = this.kind ? `${collection.id}/${this.kind}` : collection.id
    return sha256(`${scope}\n${identity}`)
  }

  /** Throws 429 with Retry-After when the identity is locked out. */
  async check(collection: CollectionDefinition, identity: string, now = Date.now()): Promise<void> {
    const since = new Date(now - this.policy.windowSeconds * 1000).toISOString()
    const failures = await this.db
      .selectFrom(SIGN_IN_FAILURES_TABLE)
      .select('at')
      .where('identity', '=', this.key(collection, identity))
      .where('at', '>', since)
      .orderBy('at', 'desc')
      .limit(this.policy.maxFailures)
      .execute()
    if (failures.length < this.policy.maxFailures) return
    const oldest = Date.parse(failures[failures.length - 1]!.at as string)
    const retryAfter = Math.max(1, Math.ceil((oldest + this.policy.windowSeconds * 1000 - now) / 1000))
    throw new PlinthError(
      429,
      'rate_limited',
      'Too many failed sign-ins for this identity; try again later.',
      undefined,
      {
        retryAfter,
      },
    )
  }

  async fail(collection: CollectionDefinition, identity: string): Promise<boolean> {
    await this.db
      .insertInto(SIGN_IN_FAILURES_TABLE)
      .values({
        id: randomUUID(),
        collection_id: collection.id,
        identity: this.key(collection, identity),
        at: new Date().toISOString(),
      })
      .execute()
    const since = new Date(Date.now() - this.policy.windowSeconds * 1000).toISOString()
    const count = await this.db
      .selectFrom(SIGN_IN_FAILURES_TABLE)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('identity', '=', this.key(collection, identity))
      .where('at', '>', since)
      .executeTakeFirst()
    return Number(count?.n ?? 0) >= this.policy.maxFailures
  }

  async succeed(collection: CollectionDefinition, identity: string): Promise<void> {
    await this.db
      .deleteFrom(SIGN_IN_FAILURES_TABLE)
      .where('identity', '=', this.key(collection, identity))
      .execute()
  }

  async prune(now = Date.now()): Promise<void> {
    const since = new Date(now - this.policy.windowSeconds * 1000).toISOString()
    await this.db.deleteFrom(SIGN_IN_FAILURES_TABLE).where('at', '<=', since).execute()
  }
}
