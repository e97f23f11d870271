import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { assertNoNulInUrl, BadRequestError, PlinthError } from '../errors/index.js'
import { parseReadParams } from './list-params.js'
import type { RecordService, WriteScope } from './service.js'

export const MAX_BATCH_REQUESTS = 100

const batchBody = Type.Object(
  {
    requests: Type.Array(
      Type.Object(
        {
          method: Type.String({ maxLength: 10 }),
          url: Type.String({ minLength: 1, maxLength: 2048 }),
          body: Type.Optional(Type.Unknown()),
          headers: Type.Optional(Type.Record(Type.String(), Type.String())),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_BATCH_REQUESTS },
    ),
  },
  { additionalProperties: false },
)

type BatchRequest = { method: string; url: string; body?: unknown; headers?: Record<string, string> }

const RECORDS_URL = /^\/api\/collections\/([A-Za-z_][A-Za-z0-9_]*)\/records(?:\/([^/?#]+))?$/

/** A batched request's URL, checked as the router checks the URL of a request. */
function parseUrl(text: string): URL {
  assertNoNulInUrl(text)
  try {
    return new URL(text, 'http://batch.local')
  } catch {
    throw new BadRequestError('The URL is not valid.')
  }
}

function decodeId(id: string): string {
  try {
    return decodeURIComponent(id)
  } catch {
    throw new BadRequestError('The record id in the URL is not validly percent-encoded.')
  }
}

/** One request of a batch as a call on the write scope. */
async function run(
  scope: WriteScope,
  request: BatchRequest,
  requestId: string,
): Promise<{ status: number; body: unknown }> {
  const url = parseUrl(request.url)
  const match = RECORDS_URL.exec(url.pathname)
  const method = request.method.toUpperCase()
  if (!match) throw new BadRequestError('Only /api/collections/{collection}/records URLs can be batched.')
  const [, collection, id] = match as unknown as [string, string, string | undefined]
  const query = Object.fromEntries(url.searchParams)
  const read = parseReadParams(query)
  const ifMatch = Object.entries(request.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'if-match',
  )?.[1]
  if (method === 'POST' && id === undefined) {
    const result = await scope.create(collection, request.body, { ...read, query, requestId })
    return { status: 201, body: result.record }
  }
  if (method === 'PATCH' && id !== undefined) {
    const result = await scope.update(collection, decodeId(id), request.body, {
      ...read,
      ifMatch,
      query,
      requestId,
    })
    return { status: 200, body: result.record }
  }
  if (method === 'DELETE' && id !== undefined) {
    await scope.delete(collection, decodeId(id), { ifMatch, query, requestId })
    return { status: 204, body: null }
  }
  throw new BadRequestError(
    `${method} ${url.pathname} cannot be batched; use POST on records, or PATCH or DELETE on a record.`,
  )
}

/** POST /api/batch: every request applies, or none does. */
export async function batchRoutes(app: FastifyInstance, options: { records: RecordService }): Promise<void> {
  app.post<{ Body: { requests: BatchRequest[] } }>(
    '/api/batch',
    { schema: { body: batchBody } },
    async function batch(request) {
      let index = 0
      try {
        return await options.records.batch(request.caller, async (scope) => {
          const results: Array<{ status: number; body: unknown }> = []
          // The database may run the whole batch again after a conflict with another write.
          for (index = 0; index < request.body.requests.length; index++)
            results.push(await run(scope, request.body.requests[index]!, request.id))
          return results
        })
      } catch (error) {
        if (!(error instanceof PlinthError)) throw error
        throw new PlinthError(
          400,
          'batch_failed',
          `Request ${index} failed, so none was applied: ${error.message}`,
          error.fields,
          {
            failedIndex: index,
            failedStatus: error.status,
            failedCode: error.code,
          },
        )
      }
    },
  )
}
