import type { FastifyInstance } from 'fastify'
import { BadRequestError, NotFoundError } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import type { RecordService } from '../records/index.js'
import type { AuditLog } from './audit.js'
import type { SessionStore } from './sessions.js'
import type { TokenService } from './tokens.js'

export const MAX_IMPERSONATION_SECONDS = 3600
const DEFAULT_IMPERSONATION_SECONDS = 900

/** The optional body `{ duration }`, checked after the caller is known to be a superuser. */
function durationOf(body: unknown): number {
  if (body === undefined || body === null) return DEFAULT_IMPERSONATION_SECONDS
  const invalid = (message: string) =>
    new BadRequestError(`Invalid body: ${message}.`, 'validation_failed', {
      duration: { code: 'invalid_value', message },
    })
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('the body must be an object')
  const { duration, ...rest } = body as Record<string, unknown>
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined)
    throw new BadRequestError(`Unknown field ${unknown}.`, 'validation_failed', {
      [unknown]: { code: 'unknown_field', message: 'is not accepted here' },
    })
  if (duration === undefined) return DEFAULT_IMPERSONATION_SECONDS
  if (
    !Number.isInteger(duration) ||
    (duration as number) < 60 ||
    (duration as number) > MAX_IMPERSONATION_SECONDS
  )
    throw invalid(`must be whole seconds from 60 to ${MAX_IMPERSONATION_SECONDS}`)
  return duration as number
}

/**
 * A superuser acts as a record of an auth collection, to see what its user sees.
 * The token is short, cannot be refreshed, and its session and the audit log name
 * the superuser.
 */
export async function impersonationRoutes(
  app: FastifyInstance,
  options: { records: RecordService; sessions: SessionStore; tokens: TokenService; audit: AuditLog },
): Promise<void> {
  const { records, sessions, tokens, audit } = options
  app.post<{ Params: { collection: string; id: string } }>(
    '/api/collections/:collection/impersonate/:id',
    async function impersonate(request) {
      requireSuperuser(request.caller, 'impersonate')
      const duration = durationOf(request.body)
      const collection = records.collection(request.params.collection)
      if (collection.type !== 'auth') throw new NotFoundError('auth collection')
      const target = await records.view(request.caller, collection.name, request.params.id)
      const superuserId = request.caller.auth?.record.id as string
      const { session } = await sessions.create(collection, target.record.id as string, {
        userAgent: request.headers['user-agent'],
        ip: request.ip,
        impersonatedBy: superuserId,
        lifetimeSeconds: duration,
      })
      const token = await tokens.sign(collection, target.record.id as string, session.id, {
        ttlSeconds: duration,
      })
      await audit.record({
        event: 'impersonation',
        collectionId: collection.id,
        recordId: target.record.id as string,
        actor: superuserId,
        ip: request.ip,
        detail: { session: session.id, duration },
      })
      return { token, record: await records.own(await tokens.verify(token)) }
    },
  )
}
