import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import { randomToken, sha256 } from '../crypto/index.js'
import type { Dialect } from '../db/index.js'
import { UnauthorizedError } from '../errors/index.js'

export const SESSIONS_TABLE = '_sessions'
export const REFRESH_TOKENS_TABLE = '_refresh_tokens'

export interface SessionMeta {
  userAgent?: string
  ip?: string
  /** The superuser acting as this record, for impersonation sessions. */
  impersonatedBy?: string
  /** Seconds until the session ends, however often it is refreshed. */
  lifetimeSeconds: number
}

export interface SessionRow {
  id: string
  collection_id: string
  record_id: string
  created: string
  last_used: string
  expires: string
  revoked: string | null
  user_agent: string | null
  ip: string | null
  impersonated_by: string | null
}

/**
 * When the record of a session last proved who it is. Every way of signing in opens a new
 * session, so that is when the session was created, however often it was refreshed since;
 * an impersonation session was opened by a superuser and proves nothing about the user.
 */
export function signedInAt(session: SessionRow): Date | null {
  return session.impersonated_by === null ? new Date(session.created) : null
}

/** A session as the API shows it, to its record or to a superuser. */
export function sessionView(session: SessionRow) {
  return {
    id: session.id,
    created: session.created,
    lastUsed: session.last_used,
    expires: session.expires,
    userAgent: session.user_agent,
    ip: session.ip,
    impersonated: session.impersonated_by !== null,
  }
}

/** What happened to a refresh token that did not rotate. */
export type RefreshFailure = 'unknown' | 'reused' | 'ended'

export class RefreshError extends UnauthorizedError {
  constructor(
    readonly reason: RefreshFailure,
    readonly session: SessionRow | null,
  ) {
    super('The refresh token is not valid; sign in again.', 'invalid_token')
  }
}

/**
 * Sessions and their rotating refresh tokens. A refresh token is spent when used;
 * presenting a spent one means it was copied, so the whole session ends (RFC 9700 §4.14).
 */
export class SessionStore {
  constructor(private readonly dialect: Dialect) {}

  async create(
    collection: CollectionDefinition,
    recordId: string,
    meta: SessionMeta,
  ): Promise<{ session: SessionRow; refreshToken: string | null }> {
    const now = new Date()
    const session: SessionRow = {
      id: randomUUID(),
      collection_id: collection.id,
      record_id: recordId,
      created: now.toISOString(),
      last_used: now.toISOString(),
      expires: new Date(now.getTime() + meta.lifetimeSeconds * 1000).toISOString(),
      revoked: null,
      user_agent: meta.userAgent?.slice(0, 300) ?? null,
      ip: meta.ip ?? null,
      impersonated_by: meta.impersonatedBy ?? null,
    }
    await this.dialect.db.insertInto(SESSIONS_TABLE).values(session).execute()
    // Impersonation is short and ends with its access token: no refresh.
    const refreshToken = meta.impersonatedBy ? null : await this.issueRefresh(this.dialect.db, session.id)
    return { session, refreshToken }
  }

  private async issueRefresh(db: Kysely<any>, sessionId: string): Promise<string> {
    const token = `${sessionId}.${randomToken(32)}`
    await db
      .insertInto(REFRESH_TOKENS_TABLE)
      .values({ hash: sha256(token), session_id: sessionId, used: null, created: new Date().toISOString() })
      .execute()
    return token
  }

  /** Spends a refresh token and returns its session with a new one. */
  async rotate(refreshToken: string): Promise<{ session: SessionRow; refreshToken: string }> {
    const hash = sha256(refreshToken)
    const outcome = await this.dialect.transaction(async (trx) => {
      const stored = await trx
        .selectFrom(REFRESH_TOKENS_TABLE)
        .selectAll()
        .where('hash', '=', hash)
        .executeTakeFirst()
      if (!stored) return { failure: 'unknown' as const, session: null }
      const session = (await trx
        .selectFrom(SESSIONS_TABLE)
        .selectAll()
        .where('id', '=', stored.session_id)
        .executeTakeFirst()) as SessionRow | undefined
      if (!session) return { failure: 'unknown' as const, session: null }
      const now = new Date().toISOString()
      if (stored.used !== null) return { failure: 'reused' as const, session }
      if (session.revoked !== null || session.expires <= now) return { failure: 'ended' as const, session }
      const spent = await trx
        .updateTable(REFRESH_TOKENS_TABLE)
        .set({ used: now })
        .where('hash', '=', hash)
        .where('used', 'is', null)
        .executeTakeFirst()
      if (Number(spent.numUpdatedRows) !== 1) return { failure: 'reused' as const, session }
      await trx.updateTable(SESSIONS_TABLE).set({ last_used: now }).where('id', '=', session.id).execute()
      return { failure: null, session, refreshToken: await this.issueRefresh(trx, session.id) }
    })
    if (outcome.failure === null) return { session: outcome.session, refreshToken: outcome.refreshToken }
    // Ending the session is committed on its own: the failed rotation must not roll it back.
    if (outcome.failure === 'reused')
      await this.revoke(outcome.session.id, outcome.session.collection_id, outcome.session.record_id)
    throw new RefreshError(outcome.failure, outcome.session)
  }

  /**
   * The session of an access token, read from the database rather than the token cache,
   * marked as used; undefined once it was revoked or reached its end.
   */
  async touchActive(
    sessionId: string,
    collectionId: string,
    recordId: string,
  ): Promise<SessionRow | undefined> {
    const now = new Date().toISOString()
    const session = (await this.dialect.db
      .selectFrom(SESSIONS_TABLE)
      .selectAll()
      .where('id', '=', sessionId)
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .where('revoked', 'is', null)
      .where('expires', '>', now)
      .executeTakeFirst()) as SessionRow | undefined
    if (session)
      await this.dialect.db
        .updateTable(SESSIONS_TABLE)
        .set({ last_used: now })
        .where('id', '=', session.id)
        .execute()
    return session
  }

  async list(collectionId: string, recordId: string): Promise<SessionRow[]> {
    return (await this.dialect.db
      .selectFrom(SESSIONS_TABLE)
      .selectAll()
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .where('revoked', 'is', null)
      .where('expires', '>', new Date().toISOString())
      .orderBy('last_used', 'desc')
      .orderBy('id')
      .execute()) as SessionRow[]
  }

  /** Ends one session of the record; false when it is not the record's or already ended. */
  async revoke(sessionId: string, collectionId: string, recordId: string): Promise<boolean> {
    const result = await this.dialect.db
      .updateTable(SESSIONS_TABLE)
      .set({ revoked: new Date().toISOString() })
      .where('id', '=', sessionId)
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .where('revoked', 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /** Ends every session of a record (a new password, a reset), optionally sparing one. */
  async revokeAll(db: Kysely<any>, collectionId: string, recordId: string, except?: string): Promise<void> {
    let query = db
      .updateTable(SESSIONS_TABLE)
      .set({ revoked: new Date().toISOString() })
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .where('revoked', 'is', null)
    if (except) query = query.where('id', '!=', except)
    await query.execute()
  }
}
