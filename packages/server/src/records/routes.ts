import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseListParams, parseReadParams } from './list-params.js'
import type { RecordService, WriteResult } from './service.js'

type RecordParams = { collection: string; id: string }
type Query = Record<string, unknown>

function sendRecord(reply: FastifyReply, result: WriteResult, status = 200): FastifyReply {
  return reply.code(status).header('etag', result.etag).send(result.record)
}

/** The records REST API of every collection. Routes only translate HTTP; the service decides. */
export async function recordsRoutes(
  app: FastifyInstance,
  options: { records: RecordService },
): Promise<void> {
  const { records } = options
  const base = '/api/collections/:collection/records'

  app.get<{ Params: RecordParams; Querystring: Query }>(base, async function listRecords(request) {
    return records.list(
      request.caller,
      request.params.collection,
      parseListParams(request.query),
      request.query,
    )
  })

  app.post<{ Params: RecordParams; Querystring: Query }>(base, async function createRecord(request, reply) {
    const read = parseReadParams(request.query)
    const result = await records.create(request.caller, request.params.collection, request.body, {
      ...read,
      query: request.query,
      requestId: request.id,
    })
    reply.header('location', `/api/collections/${request.params.collection}/records/${result.record.id}`)
    return sendRecord(reply, result, 201)
  })

  app.get<{ Params: RecordParams; Querystring: Query }>(
    `${base}/:id`,
    async function viewRecord(request, reply) {
      const result = await records.view(
        request.caller,
        request.params.collection,
        request.params.id,
        parseReadParams(request.query),
        request.query,
      )
      if (request.headers['if-none-match'] === result.etag)
        return reply.code(304).header('etag', result.etag).send()
      return sendRecord(reply, result)
    },
  )

  app.patch<{ Params: RecordParams; Querystring: Query }>(
    `${base}/:id`,
    async function updateRecord(request, reply) {
      const result = await records.update(
        request.caller,
        request.params.collection,
        request.params.id,
        request.body,
        {
          ...parseReadParams(request.query),
          ifMatch: ifMatch(request),
          query: request.query,
          requestId: request.id,
        },
      )
      return sendRecord(reply, result)
    },
  )

  app.delete<{ Params: RecordParams; Querystring: Query }>(
    `${base}/:id`,
    async function deleteRecord(request, reply) {
      parseReadParams(request.query)
      await records.delete(request.caller, request.params.collection, request.params.id, {
        ifMatch: ifMatch(request),
        query: request.query,
        requestId: request.id,
      })
      return reply.code(204).send()
    },
  )
}

function ifMatch(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match']
  return Array.isArray(header) ? header.join(',') : header
}
