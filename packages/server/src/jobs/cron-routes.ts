import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { NotFoundError, refuseBody } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import type { JobQueue } from './queue.js'

const strict = { additionalProperties: false } as const
const cronParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, strict)
const noQuery = Type.Object({}, strict)

/**
 * `GET /api/crons` (every cron entry of this node: its expression, next and last tick, and the
 * outcome of the job the last tick enqueued) and `POST /api/crons/{id}` (enqueue the entry's
 * job now), for superusers, as PocketBase names them.
 *
 * @example
 * await app.register(cronsRoutes, { jobs })
 */
export async function cronsRoutes(app: FastifyInstance, options: { jobs: JobQueue<any> }): Promise<void> {
  const { jobs } = options
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    requireSuperuser(request.caller, 'manage cron schedules')
  })

  app.get('/api/crons', { schema: { querystring: noQuery } }, async function listCrons() {
    return jobs.schedules()
  })

  app.post<{ Params: Static<typeof cronParams> }>(
    '/api/crons/:id',
    { schema: { params: cronParams, querystring: noQuery } },
    async function runCron(request, reply) {
      refuseBody(
        request.body,
        'Running a cron entry takes no options: its job gets the payload of its schedule.',
      )
      // Entries are looked up by name in a list, never as a key of an object: any id is safe here.
      const job = await jobs.runSchedule(request.params.id)
      if (!job) throw new NotFoundError('cron entry')
      return reply.code(201).header('location', `/api/jobs/${job.id}`).send(job)
    },
  )
}
