import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  ConflictError,
  PlinthError,
  type ProblemDetails,
  problemDetails,
  ReadOnlyCollectionError,
} from '../errors/index.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

interface Problem extends ProblemDetails {
  instance: string
  [extension: string]: unknown
}

function problemBody(error: PlinthError, requestId: string): Problem {
  return { ...problemDetails(error), instance: requestId, ...error.extra }
}

/** Fastify's own errors (body parsing, limits, content type) in Plinth's terms. */
function fromFastify(error: FastifyError, bodyLimit: number): PlinthError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new PlinthError(400, 'malformed_json', 'The body is not valid JSON.', {
        body: { code: 'malformed_json', message: 'is not valid JSON' },
      })
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PlinthError(
        413,
        'body_too_large',
        `The body is larger than the limit of ${bodyLimit} bytes.`,
      )
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new PlinthError(415, 'unsupported_media_type', 'Send the body as application/json.')
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new PlinthError(415, 'unsupported_media_type', 'The Content-Type header is not valid.')
    case 'FST_ERR_VALIDATION':
      return new PlinthError(400, 'validation_failed', error.message)
    default:
      if (error.statusCode === 429) return new PlinthError(429, 'rate_limited', error.message)
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
        return new PlinthError(error.statusCode, 'bad_request', error.message)
      return null
  }
}

export interface ProblemOptions {
  bodyLimit: number
  /**
   * Whether a database error came from SQL built for a collection definition that has
   * since changed (the app also reloads the definitions when it has).
   */
  isStaleSchema(error: unknown): boolean
}

/**
 * A statement that named a column or table a concurrent schema change removed: the
 * request met the change halfway, and sent again it runs on the new definition.
 */
function fromDatabase(error: unknown, options: ProblemOptions, request: FastifyRequest): PlinthError | null {
  if (!options.isStaleSchema(error)) return null
  request.log.warn({ err: error }, 'a request met a schema change')
  return new ConflictError(
    'schema_changed',
    'The collection changed while this request ran; nothing was applied. Send it again.',
  )
}

export function sendProblem(reply: FastifyReply, error: PlinthError): FastifyReply {
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problemBody(error, String(reply.request.id)))
}

/**
 * Every error leaves as problem+json: Plinth's own with their details, Fastify's
 * mapped to ours, and anything else as a bare 500 (logged with the request id:
 * an unknown error is our bug, and its cause stays on the server).
 */
export const problemHandling = fp(
  async function problemHandling(app: FastifyInstance, options: ProblemOptions) {
    app.setErrorHandler(function handleError(
      error: FastifyError,
      request: FastifyRequest,
      reply: FastifyReply,
    ) {
      const known =
        error instanceof PlinthError
          ? error
          : (fromFastify(error, options.bodyLimit) ?? fromDatabase(error, options, request))
      if (known) {
        if (known.status === 429 && !reply.hasHeader('retry-after'))
          reply.header('retry-after', String(known.extra?.retryAfter ?? 60))
        if (known instanceof ReadOnlyCollectionError) reply.header('allow', known.allow)
        return sendProblem(reply, known)
      }
      request.log.error({ err: error }, 'unhandled error')
      return sendProblem(
        reply,
        new PlinthError(
          500,
          'internal',
          'Something went wrong on our side; the request id helps us find it.',
        ),
      )
    })

    const methodsByRoute = new Map<string, Set<string>>()
    app.addHook('onRoute', (route) => {
      const methods = methodsByRoute.get(route.url) ?? new Set<string>()
      for (const method of [route.method].flat()) methods.add(method)
      methodsByRoute.set(route.url, methods)
    })

    app.setNotFoundHandler(function notFound(request: FastifyRequest, reply: FastifyReply) {
      const path = request.url.split('?')[0]!
      for (const [url, methods] of methodsByRoute) {
        if (!routeMatches(url, path)) continue
        reply.header('allow', [...methods].filter((m) => m !== 'HEAD').join(', '))
        return sendProblem(
          reply,
          new PlinthError(405, 'method_not_allowed', `${request.method} is not allowed here.`),
        )
      }
      return sendProblem(
        reply,
        new PlinthError(404, 'route_not_found', `No route ${request.method} ${path}.`),
      )
    })
  },
  { name: 'plinth-problems', fastify: '5.x' },
)

/** Whether a concrete path fits a route pattern such as /api/collections/:name/records/:id. */
function routeMatches(pattern: string, path: string): boolean {
  const a = pattern.split('/')
  const b = path.split('/')
  if (a.length !== b.length) return false
  return a.every((part, index) => (part.startsWith(':') ? b[index] !== '' : part === b[index]))
}
