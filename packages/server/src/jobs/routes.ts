import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import type { JobQueue } from './queue.js'
import { SORT_PATTERN } from './store.js'
import { JOB_STATES } from './types.js'

const strict = { additionalProperties: false } as const
const label = Type.String({ minLength: 1, maxLength: 200 })
const jobParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }) },
  strict,
)
const listQuery = Type.Object(
  {
    state: Type.Union(JOB_STATES.map((state) => Type.Literal(state))),
    name: label,
    queue: label,
    sort: Type.String({ pattern: SORT_PATTERN, maxLength: 100 }),
    // Query strings are not coerced: numbers arrive as digits.
    page: Type.String({ pattern: '^[1-9][0-9]{0,6}$' }),
    perPage: Type.String({ pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$' }),
  },
  strict,
)
const listQuerySchema = Type.Partial(listQuery, strict)

type JobParams = { Params: Static<typeof jobParams> }

/**
 * `GET /api/jobs`, `GET /api/jobs/{id}`, `POST /api/jobs/{id}/retry` and
 * `DELETE /api/jobs/{id}`, for superusers.
 *
 * @example
 * await app.register(jobsRoutes, { jobs })
 */
export async function jobsRoutes(app: FastifyInstance, options: { jobs: JobQueue<any> }): Promise<void> {
  const { jobs } = options
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    requireSuperuser(request.caller, 'manage jobs')
  })

  app.get<{ Querystring: Static<typeof listQuerySchema> }>(
    '/api/jobs',
    { schema: { querystring: listQuerySchema } },
    async function listJobs(request) {
      const { page, perPage, ...filters } = request.query
      return jobs.list({
        ...filters,
        page: page === undefined ? 1 : Number(page),
        perPage: perPage === undefined ? 30 : Number(perPage),
      })
    },
  )

  app.get<JobParams>('/api/jobs/:id', { schema: { params: jobParams } }, async function viewJob(request) {
    const job = await jobs.get(request.params.id)
    if (!job) throw new NotFoundError('job')
    return job
  })

  app.post<JobParams>(
    '/api/jobs/:id/retry',
    { schema: { params: jobParams } },
    async function retryJob(request) {
      return jobs.retry(request.params.id)
    },
  )

  app.delete<JobParams>(
    '/api/jobs/:id',
    { schema: { params: jobParams } },
    async function deleteJob(request, reply) {
      await jobs.remove(request.params.id)
      return reply.code(204).send()
    },
  )
}
