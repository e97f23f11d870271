import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import { NotFoundError, refuseBody } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import type { RecordService } from '../records/index.js'
import type { AuditLog } from './audit.js'
import { type SessionRow, type SessionStore, sessionView } from './sessions.js'

const strict = { additionalProperties: false } as const
const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
const recordParams = Type.Object(
  {
    collection: Type.String({ minLength: 1, maxLength: 100 }),
    id: Type.String({ minLength: 1, maxLength: 100 }),
  },
  strict,
)
const sessionParams = Type.Object(
  {
    collection: Type.String({ minLength: 1, maxLength: 100 }),
    id: Type.String({ minLength: 1, maxLength: 100 }),
    sessionId: Type.String({ pattern: UUID }),
  },
  strict,
)
const noQuery = Type.Object({}, strict)

type RecordParams = { Params: Static<typeof recordParams> }
type SessionParams = { Params: Static<typeof sessionParams> }

/**
 * The sessions of any record of an auth collection, for superusers: `GET` lists them,
 * `DELETE …/sessions/{sessionId}` ends one and `DELETE …/sessions` all of them, each audited
 * as `session_revoked` with the superuser as actor, as impersonation is. A record's own
 * sessions are at `/api/auth/sessions`.
 *
 * @example
 * await app.register(recordSessionsRoutes, { records, sessions, audit, db })
 */
export async function recordSessionsRoutes(
  app: FastifyInstance,
  options: { records: RecordService; sessions: SessionStore; audit: AuditLog; db: Kysely<any> },
): Promise<void> {
  const { records, sessions, audit, db } = options
  const base = '/api/collections/:collection/records/:id/sessions'
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    requireSuperuser(request.caller, "manage other records' sessions")
  })

  /** The auth record the path names, read as the superuser: an unknown one is a 404. */
  async function owner(request: FastifyRequest<RecordParams | SessionParams>) {
    const collection = records.collection(request.params.collection)
    if (collection.type !== 'auth') throw new NotFoundError('auth collection')
    const target = await records.view(request.caller, collection.name, request.params.id)
    return { collectionId: collection.id, recordId: target.record.id as string }
  }

  const revoked = (
    request: FastifyRequest,
    target: { collectionId: string; recordId: string },
    detail: Record<string, unknown>,
  ) =>
    audit.record({
      event: 'session_revoked',
      ...target,
      actor: request.caller.auth?.record.id as string,
      ip: request.ip,
      detail,
    })

  app.get<RecordParams>(
    base,
    { schema: { params: recordParams, querystring: noQuery } },
    async function listRecordSessions(request) {
      const target = await owner(request)
      const items = (await sessions.list(target.collectionId, target.recordId)).map((row: SessionRow) => ({
        ...sessionView(row),
        impersonatedBy: row.impersonated_by,
      }))
      return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
    },
  )

  app.delete<SessionParams>(
    `${base}/:sessionId`,
    { schema: { params: sessionParams, querystring: noQuery } },
    async function revokeRecordSession(request, reply) {
      const target = await owner(request)
      // A session of another record answers like a missing one.
      if (!(await sessions.revoke(request.params.sessionId, target.collectionId, target.recordId)))
        throw new NotFoundError('session')
      await revoked(request, target, { session: request.params.sessionId })
      return reply.code(204).send()
    },
  )

  app.delete<RecordParams>(
    base,
    { schema: { params: recordParams, querystring: noQuery } },
    async function revokeRecordSessions(request, reply) {
      refuseBody(request.body, 'Ending all sessions of a record takes no options.')
      const target = await owner(request)
      const ended = (await sessions.list(target.collectionId, target.recordId)).map((row) => row.id)
      await sessions.revokeAll(db, target.collectionId, target.recordId)
      await revoked(request, target, { sessions: ended })
      return reply.code(204).send()
    },
  )
}
