import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import { invalidQuery, parseListParams, readQuery } from '../records/index.js'
import type { RequestLogStore, StatsInterval } from './store.js'

const logParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }) },
  { additionalProperties: false },
)
const LIST_PARAMS = ['filter', 'sort', 'page', 'perPage', 'skipTotal'] as const
const INTERVALS: readonly StatsInterval[] = ['minute', 'hour']

/**
 * `GET /api/logs` (a page of requests: `filter`, `sort`, `page`, `perPage`, `skipTotal`, as
 * the records API takes them), `GET /api/logs/stats` (requests per minute or hour) and
 * `GET /api/logs/{id}`, for superusers.
 *
 * @example
 * await app.register(logsRoutes, { store: new RequestLogStore(dialect) })
 */
export async function logsRoutes(app: FastifyInstance, options: { store: RequestLogStore }): Promise<void> {
  const { store } = options
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    requireSuperuser(request.caller, 'read the request logs')
  })

  app.get('/api/logs', async function listLogs(request) {
    const query = request.query as Record<string, unknown>
    const params = parseListParams(readQuery(query, LIST_PARAMS))
    return store.list(params)
  })

  app.get('/api/logs/stats', async function logStats(request) {
    const { filter = '', interval = 'hour' } = readQuery(request.query as Record<string, unknown>, [
      'filter',
      'interval',
    ])
    if (!(INTERVALS as readonly string[]).includes(interval))
      throw invalidQuery('interval', 'must be minute or hour')
    return { interval, items: await store.stats(filter, interval as StatsInterval) }
  })

  app.get<{ Params: Static<typeof logParams> }>(
    '/api/logs/:id',
    { schema: { params: logParams } },
    async function viewLog(request) {
      const log = await store.get(request.params.id)
      if (!log) throw new NotFoundError('request log')
      return log
    },
  )
}
