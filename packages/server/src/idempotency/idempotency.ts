import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { handlesSessions } from '../auth/index.js'
import { sha256 } from '../crypto/index.js'
import { BadRequestError, ConflictError, PlinthError } from '../errors/index.js'

export const IDEMPOTENCY_TABLE = '_idempotency'
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
// A first attempt that has not finished in this time is taken to have died with its node.
const ABANDONED_AFTER_MS = 5 * 60 * 1000
const KEY = /^[\x21-\x7e]{1,255}$/
const replayedHeaders = ['content-type', 'location', 'etag']
const WRITE_METHODS = new Set(['POST', 'PATCH', 'DELETE'])

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyScope?: string
  }
}

/** Who may replay a key: the auth record, or the client address when anonymous. */
function callerScope(request: FastifyRequest): string {
  const auth = request.caller.auth
  return auth ? `${auth.collection.id}:${auth.record.id}` : `ip:${request.ip}`
}

/**
 * `Idempotency-Key` on POST, PATCH and DELETE: the first request with a key runs;
 * a retry with the same body gets the stored answer, a different body 422, and a
 * retry while the first still runs 409. Answers of 5xx are not kept, so they can be retried.
 */
export const idempotency = fp(
  async function idempotency(app: FastifyInstance, options: { db: Kysely<any> }) {
    const { db } = options

    async function claimKey(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      const header = request.headers['idempotency-key']
      if (header === undefined) return
      if (typeof header !== 'string' || !KEY.test(header))
        throw new BadRequestError(
          'Idempotency-Key must be 1 to 255 visible ASCII characters.',
          'bad_request',
          {
            'Idempotency-Key': {
              code: 'invalid_value',
              message: 'must be 1 to 255 visible ASCII characters',
            },
          },
        )
      const scope = sha256([callerScope(request), request.method, request.url, header].join('\n'))
      const requestHash = sha256(JSON.stringify(request.body ?? null))
      const now = Date.now()
      const claimed = await db
        .insertInto(IDEMPOTENCY_TABLE)
        .values({
          scope,
          request_hash: requestHash,
          state: 'running',
          status: 0,
          headers: '{}',
          body: '',
          created: now,
        })
        .onConflict((oc) => oc.column('scope').doNothing())
        .executeTakeFirst()
      if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 1) {
        request.idempotencyScope = scope
        return
      }
      const stored = await db
        .selectFrom(IDEMPOTENCY_TABLE)
        .selectAll()
        .where('scope', '=', scope)
        .executeTakeFirst()
      const created = Number(stored?.created ?? 0)
      const isStale =
        !stored ||
        now - created > IDEMPOTENCY_TTL_MS ||
        (stored.state === 'running' && now - created > ABANDONED_AFTER_MS)
      if (isStale) {
        await db
          .deleteFrom(IDEMPOTENCY_TABLE)
          .where('scope', '=', scope)
          .where('created', '=', created)
          .execute()
        return claimKey(request, reply)
      }
      if (stored.request_hash !== requestHash)
        throw new PlinthError(
          422,
          'idempotency_mismatch',
          'This Idempotency-Key was used with a different request body.',
        )
      if (stored.state === 'running')
        throw new ConflictError(
          'idempotency_in_flight',
          'The first request with this Idempotency-Key is still running.',
        )
      const headers = JSON.parse(stored.headers as string) as Record<string, string>
      for (const [name, value] of Object.entries(headers)) reply.header(name, value)
      reply.header('idempotent-replayed', 'true')
      return reply.code(Number(stored.status)).send(stored.body === '' ? undefined : stored.body)
    }

    async function storeAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      const scope = request.idempotencyScope
      if (!scope) return payload
      request.idempotencyScope = undefined
      if (reply.statusCode >= 500) {
        await db.deleteFrom(IDEMPOTENCY_TABLE).where('scope', '=', scope).execute()
        return payload
      }
      const headers: Record<string, string> = {}
      for (const name of replayedHeaders) {
        const value = reply.getHeader(name)
        if (value !== undefined) headers[name] = String(value)
      }
      await db
        .updateTable(IDEMPOTENCY_TABLE)
        .set({
          state: 'done',
          status: reply.statusCode,
          headers: JSON.stringify(headers),
          body: typeof payload === 'string' ? payload : '',
        })
        .where('scope', '=', scope)
        .execute()
      return payload
    }

    // A request that fails before its answer is sent must not leave its key blocked.
    async function releaseKey(request: FastifyRequest) {
      if (request.idempotencyScope)
        await db.deleteFrom(IDEMPOTENCY_TABLE).where('scope', '=', request.idempotencyScope).execute()
    }

    // Only routes that write carry the hooks, so reads pay nothing for them. Answers that
    // carry tokens are never kept: a stored copy would be a live credential in the
    // database, and signing in again is a safe retry anyway.
    app.addHook('onRoute', function guardWrites(route) {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      if (!methods.some((method) => WRITE_METHODS.has(method)) || handlesSessions(route.url)) return
      route.preHandler = [claimKey, ...hooksOf(route.preHandler)]
      // Last, so what is kept is the answer as the route's own hooks left it.
      route.onSend = [...hooksOf(route.onSend), storeAnswer]
      route.onResponse = [releaseKey, ...hooksOf(route.onResponse)]
    })
  },
  { name: 'plinth-idempotency', fastify: '5.x', dependencies: ['plinth-authentication'] },
)

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return []
  return Array.isArray(hooks) ? hooks : [hooks]
}

/** Drops keys older than a day. */
export async function pruneIdempotencyKeys(db: Kysely<any>, now = Date.now()): Promise<void> {
  await db
    .deleteFrom(IDEMPOTENCY_TABLE)
    .where('created', '<', now - IDEMPOTENCY_TTL_MS)
    .execute()
}
