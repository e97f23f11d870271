import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import { type CollectionDefinition, identityFieldsOf } from '../collections/index.js'
import { burnPasswordCheck, verifyPassword } from '../crypto/index.js'
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  PlinthError,
  UnauthorizedError,
} from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import type { RecordService } from '../records/index.js'
import { type AuditLog, auditEvents } from './audit.js'
import { CSRF_HEADER, type CsrfTokens, REFRESH_COOKIE } from './cookie-mode.js'
import type { Lockout } from './lockout.js'
import { upgradePasswordHash } from './password-upgrade.js'
import { RefreshError, type SessionStore, sessionView, signedInAt } from './sessions.js'
import { completeSetup } from './setup.js'
import type { SignIn } from './sign-in.js'
import type { SigningKeys } from './signing-keys.js'
import type { TokenService } from './tokens.js'

export interface AuthRoutesOptions {
  csrf: CsrfTokens
  db: Kysely<any>
  records: RecordService
  tokens: TokenService
  sessions: SessionStore
  signIn: SignIn
  lockout: Lockout
  audit: AuditLog
  keys: SigningKeys
}

export const passwordSignIn = Type.Object(
  {
    identity: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
)

export const setupBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    passwordConfirm: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
)

/** `{ refreshToken }` from the body; an empty body leaves it to the cookie (cookie mode). */
function refreshTokenOf(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined
  const invalid = () =>
    new BadRequestError('The body must be {"refreshToken": "…"}.', 'validation_failed', {
      refreshToken: { code: 'invalid_type', message: 'must be a refresh token string' },
    })
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid()
  const { refreshToken, ...rest } = body as Record<string, unknown>
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined)
    throw new BadRequestError(`Unknown field ${unknown}.`, 'validation_failed', {
      [unknown]: { code: 'unknown_field', message: 'is not accepted here' },
    })
  if (refreshToken === undefined) return undefined
  if (typeof refreshToken !== 'string' || refreshToken.length === 0 || refreshToken.length > 200)
    throw invalid()
  return refreshToken
}

/** Cookie mode: the refresh token comes from its cookie, and the CSRF header must match its session. */
function refreshFromCookie(request: FastifyRequest, csrf: CsrfTokens, token: string): string {
  if (!csrf.isValid(token.split('.')[0] ?? '', request.headers[CSRF_HEADER]))
    throw new PlinthError(
      403,
      'csrf_failed',
      `Send the value of the plinth_csrf cookie in the ${CSRF_HEADER} header.`,
    )
  return token
}

function sessionOwner(request: FastifyRequest) {
  const { auth, session } = request.caller
  if (!auth || !session) throw new UnauthorizedError('Sign in to manage your sessions.')
  return { collectionId: auth.collection.id, recordId: auth.record.id as string, sessionId: session.id }
}

/** Sign-in, sessions and the first-run setup. */
export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const { csrf, db, records, tokens, sessions, signIn, lockout, audit, keys } = options

  function authCollection(name: string): CollectionDefinition {
    const collection = records.collection(name)
    if (collection.type !== 'auth') throw new NotFoundError('auth collection')
    return collection
  }

  app.post<{ Params: { collection: string }; Body: { identity: string; password: string } }>(
    '/api/collections/:collection/auth-with-password',
    { schema: { body: passwordSignIn } },
    async function authWithPassword(request) {
      const collection = authCollection(request.params.collection)
      const given = request.body.identity.trim().normalize('NFC')
      // Emails are stored lower-cased; other identity fields compare as written.
      const identity = given.toLowerCase()
      await lockout.check(collection, identity)
      const row = await db
        .selectFrom(collection.name)
        .select(['id', 'password', 'verified'])
        .where((eb) =>
          eb.or(
            identityFieldsOf(collection).map((name) => eb(name, '=', name === 'email' ? identity : given)),
          ),
        )
        .executeTakeFirst()
      // Unknown identities cost a hash check too: the answer and its timing reveal nothing.
      if (!row) await burnPasswordCheck(request.body.password)
      if (!row || !(await verifyPassword(row.password as string, request.body.password))) {
        const lockedOut = await lockout.fail(collection, identity)
        await audit.record({
          event: lockedOut ? 'lockout' : 'sign_in_failed',
          collectionId: collection.id,
          recordId: (row?.id as string) ?? null,
          ip: request.ip,
        })
        throw new BadRequestError('The identity or the password is wrong.', 'invalid_credentials')
      }
      if (collection.options.onlyVerified === true && !row.verified)
        throw new ForbiddenError('Verify your email address before signing in.')
      await lockout.succeed(collection, identity)
      await upgradePasswordHash(
        db,
        collection,
        row.id as string,
        row.password as string,
        request.body.password,
      )
      return signIn.complete(request, collection, row.id as string, 'password')
    },
  )

  app.post<{ Params: { collection: string } }>(
    '/api/collections/:collection/auth-refresh',
    async function authRefresh(request) {
      const collection = authCollection(request.params.collection)
      const fromBody = refreshTokenOf(request.body)
      const cookie = request.cookies[REFRESH_COOKIE]
      if (fromBody === undefined && !cookie) return refreshAccessToken(request, collection)
      const presented = fromBody ?? refreshFromCookie(request, csrf, cookie!)
      try {
        const { session, refreshToken } = await sessions.rotate(presented)
        if (session.collection_id !== collection.id) throw new RefreshError('unknown', null)
        const token = await tokens.sign(collection, session.record_id, session.id, {
          authTime: signedInAt(session),
        })
        return { token, refreshToken, record: await records.own(await tokens.verify(token)) }
      } catch (error) {
        if (error instanceof RefreshError && error.reason === 'reused' && error.session)
          await audit.record({
            event: 'refresh_reuse',
            collectionId: error.session.collection_id,
            recordId: error.session.record_id,
            ip: request.ip,
            detail: { session: error.session.id },
          })
        throw error
      }
    },
  )

  /**
   * The PocketBase SDK's refresh: only the access token, in Authorization. It answers a
   * new access token for the same session while that session is active, and nothing
   * more: no refresh token is spent or issued, so rotation and reuse detection stay as
   * they are, and the session's end and sign-in time do not move.
   */
  async function refreshAccessToken(request: FastifyRequest, collection: CollectionDefinition) {
    const { auth, session } = request.caller
    if (!auth || !session || request.viaCookie)
      throw new UnauthorizedError(
        'Send {"refreshToken": "…"} in the body, or the access token in the Authorization header.',
      )
    if (auth.collection.id !== collection.id)
      throw new ForbiddenError(`The token is not of ${collection.name}; refresh it at its own collection.`)
    if (session.impersonatedBy !== null)
      throw new ForbiddenError('An impersonation token cannot be refreshed.')
    const active = await sessions.touchActive(session.id, collection.id, auth.record.id as string)
    if (!active) throw new UnauthorizedError('The session has ended; sign in again.', 'invalid_token')
    const token = await tokens.sign(collection, active.record_id, active.id, { authTime: signedInAt(active) })
    return { token, record: await records.own(await tokens.verify(token)) }
  }

  app.post<{ Params: { collection: string } }>(
    '/api/collections/:collection/auth-logout',
    async function authLogout(request, reply) {
      authCollection(request.params.collection)
      const owner = sessionOwner(request)
      await sessions.revoke(owner.sessionId, owner.collectionId, owner.recordId)
      await audit.record({
        event: 'sign_out',
        collectionId: owner.collectionId,
        recordId: owner.recordId,
        ip: request.ip,
      })
      return reply.code(204).send()
    },
  )

  app.get('/api/auth/sessions', async function listSessions(request) {
    const owner = sessionOwner(request)
    const items = (await sessions.list(owner.collectionId, owner.recordId)).map((s) => ({
      ...sessionView(s),
      current: s.id === owner.sessionId,
    }))
    return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
  })

  app.delete<{ Params: { id: string } }>(
    '/api/auth/sessions/:id',
    async function revokeSession(request, reply) {
      const owner = sessionOwner(request)
      // Another record's session answers like a missing one.
      if (!(await sessions.revoke(request.params.id, owner.collectionId, owner.recordId)))
        throw new NotFoundError('session')
      await audit.record({
        event: 'session_revoked',
        collectionId: owner.collectionId,
        recordId: owner.recordId,
        ip: request.ip,
        detail: { session: request.params.id },
      })
      return reply.code(204).send()
    },
  )

  app.get('/api/.well-known/jwks.json', async function jwks(_request, reply) {
    reply.header('cache-control', 'public, max-age=300')
    return { keys: await keys.publicJwks() }
  })

  app.get<{ Querystring: { page?: string; perPage?: string; event?: string; recordId?: string } }>(
    '/api/audit',
    async function auditLog(request) {
      requireSuperuser(request.caller, 'read the audit log')
      const page = Number(request.query.page ?? 1)
      const perPage = Number(request.query.perPage ?? 50)
      if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 500)
        throw new BadRequestError('page must be >= 1 and perPage 1..500.', 'invalid_query')
      const found = await audit.list({
        page,
        perPage,
        event: request.query.event,
        recordId: request.query.recordId,
      })
      // Every kind the log records, so a client offers exactly the filters that can match.
      return { ...found, events: auditEvents }
    },
  )

  app.post<{ Body: { token: string; email: string; password: string; passwordConfirm: string } }>(
    '/api/setup',
    { schema: { body: setupBody } },
    async function setup(request, reply) {
      const { token, ...body } = request.body
      const record = await completeSetup(records, token, body)
      const collection = records.collection(record.collectionName as string)
      return reply.code(201).send(await signIn.issue(request, collection, record.id as string, 'setup'))
    },
  )
}
