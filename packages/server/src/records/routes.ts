import fastifyMultipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { UploadedFile } from '../collections/index.js'
import type { FileService } from '../files/index.js'
import { assertMayTry } from '../rules/index.js'
import { parseListParams, parseReadParams } from './list-params.js'
import type { ReadRouting } from './read-routing.js'
import type { RecordService, WriteResult } from './service.js'

type RecordParams = { collection: string; id: string }
type Query = Record<string, unknown>

/**
 * Sets the status and ETag and gives back the record for Fastify to send. Handing the reply
 * itself back from an async handler would make Fastify wait for the response to finish
 * through a stream listener of its own on every request.
 */
function answerRecord(reply: FastifyReply, result: WriteResult, status = 200): WriteResult['record'] {
  reply.code(status).header('etag', result.etag)
  return result.record
}

/** The records REST API of every collection. Routes only translate HTTP; the service decides. */
export async function recordsRoutes(
  app: FastifyInstance,
  options: { records: RecordService; files: FileService; reads: ReadRouting },
): Promise<void> {
  const { records, files, reads } = options
  const base = '/api/collections/:collection/records'
  // Only these routes read forms: everywhere else multipart stays a 415.
  await app.register(fastifyMultipart, { throwFileSizeLimit: false })

  /**
   * Runs a create or update with the request's body: JSON, or a form whose files are
   * stored as they stream in. Uploads that the write does not keep (it failed, or a
   * hook dropped them) are removed once it is over.
   */
  async function withBody<T>(
    request: FastifyRequest<{ Params: RecordParams }>,
    reply: FastifyReply,
    action: 'create' | 'update',
    write: (body: unknown) => Promise<T>,
  ): Promise<T> {
    if (!request.isMultipart()) return write(request.body)
    const collection = records.writableCollection(request.params.collection)
    // Refused before a byte is stored: nobody uploads a gigabyte only to be told no.
    assertMayTry(request.caller, collection, action)
    const uploads: UploadedFile[] = []
    try {
      return await write(await files.readForm(request, collection, uploads))
    } catch (error) {
      // The rest of a refused upload is not read: the connection cannot carry another request.
      if (!request.raw.readableEnded) reply.header('connection', 'close')
      throw error
    } finally {
      await files.settle(collection, uploads)
    }
  }

  app.get<{ Params: RecordParams; Querystring: Query }>(base, async function listRecords(request) {
    const params = parseListParams(request.query)
    // Only these two routes may read from a replica; every other read decides a write or a sign-in.
    return reads.read(request.caller, (db) =>
      records.list(request.caller, request.params.collection, params, request.query, db),
    )
  })

  app.post<{ Params: RecordParams; Querystring: Query }>(base, async function createRecord(request, reply) {
    const read = parseReadParams(request.query)
    const result = await withBody(request, reply, 'create', (body) =>
      records.create(request.caller, request.params.collection, body, {
        query: request.query,
        requestId: request.id,
        ...read,
      }),
    )
    reply.header('location', `/api/collections/${request.params.collection}/records/${result.record.id}`)
    return answerRecord(reply, result, 201)
  })

  app.get<{ Params: RecordParams; Querystring: Query }>(
    `${base}/:id`,
    async function viewRecord(request, reply) {
      const read = parseReadParams(request.query)
      const result = await reads.read(request.caller, (db) =>
        records.view(request.caller, request.params.collection, request.params.id, read, request.query, db),
      )
      if (request.headers['if-none-match'] === result.etag)
        return reply.code(304).header('etag', result.etag).send()
      return answerRecord(reply, result)
    },
  )

  app.patch<{ Params: RecordParams; Querystring: Query }>(
    `${base}/:id`,
    async function updateRecord(request, reply) {
      const read = parseReadParams(request.query)
      const result = await withBody(request, reply, 'update', (body) =>
        records.update(request.caller, request.params.collection, request.params.id, body, {
          ifMatch: ifMatch(request),
          query: request.query,
          requestId: request.id,
          ...read,
        }),
      )
      return answerRecord(reply, result)
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
