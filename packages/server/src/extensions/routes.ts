import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Mailer } from '../mail/index.js'
import { CallerRecords, type RecordService } from '../records/index.js'
import type { JobsClient, RouteDefinition } from './define-config.js'

export interface ProjectRoutesOptions {
  routes: RouteDefinition[]
  records: RecordService
  mailer: Mailer
  jobs: JobsClient
}

/**
 * The project's own routes, after Plinth's: they get the caller the request signed in
 * as (token, cookie or API key), the records acting as that caller, and every
 * app-wide guard (rate limits, CSRF in cookie mode, idempotency, problem+json errors).
 */
export async function projectRoutes(app: FastifyInstance, options: ProjectRoutesOptions): Promise<void> {
  for (const route of options.routes) {
    app.route({
      method: route.method,
      url: route.path,
      async handler(request, reply) {
        const result = await route.handler({
          params: (request.params ?? {}) as Record<string, string>,
          query: (request.query ?? {}) as Record<string, unknown>,
          body: request.body,
          caller: request.caller,
          request,
          reply,
          records: new CallerRecords(options.records, request.caller),
          mailer: options.mailer,
          jobs: options.jobs,
          log: request.log as Logger,
        })
        if (reply.sent) return reply
        if (result === undefined) return reply.code(reply.statusCode === 200 ? 204 : reply.statusCode).send()
        return result
      },
    })
  }
}
