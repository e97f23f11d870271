import fastifyMultipart from '@fastify/multipart'
import { Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CollectionDefinition, FieldDefinition, UploadedFile } from '../collections/index.js'
import { assertNoNulInUrl, BadRequestError, PlinthError, ValidationError } from '../errors/index.js'
import type { FileService, SpooledFile } from '../files/index.js'
import type { Caller } from '../identity/index.js'
import { assertMayTry } from '../rules/index.js'
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

type Target = { collection: string; id?: string; method: string; url: URL }

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

/** The collection and record a batched request names. */
function targetOf(request: BatchRequest): Target {
  const url = parseUrl(request.url)
  const match = RECORDS_URL.exec(url.pathname)
  if (!match) throw new BadRequestError('Only /api/collections/{collection}/records URLs can be batched.')
  const [, collection, id] = match as unknown as [string, string, string | undefined]
  return { collection, id, method: request.method.toUpperCase(), url }
}

/** One request of a batch as a call on the write scope. */
async function run(
  scope: WriteScope,
  request: BatchRequest,
  requestId: string,
): Promise<{ status: number; body: unknown }> {
  const { collection, id, method, url } = targetOf(request)
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

/** A request's failure as the batch's: nothing was applied, and the index says which one failed. */
function failedAt(index: number, error: PlinthError): PlinthError {
  return new PlinthError(
    400,
    'batch_failed',
    `Request ${index} failed, so none was applied: ${error.message}`,
    error.fields,
    { failedIndex: index, failedStatus: error.status, failedCode: error.code },
  )
}

/**
 * The requests of a batch body the route's schema did not check: a form's `@jsonPayload`,
 * or no body at all, held to the schema a JSON body is.
 */
function requestsOf(payload: unknown, name: string): BatchRequest[] {
  const problem = Value.Errors(batchBody, payload).First()
  if (problem)
    throw new ValidationError(
      { [name]: { code: 'invalid_batch', message: `${problem.path || '/'}: ${problem.message}` } },
      `The ${name} must be {"requests": [{"method", "url", "body"?, "headers"?}, …]}.`,
    )
  return (payload as { requests: BatchRequest[] }).requests
}

/**
 * The collection, file field and body a file part of request `index` is for, once the
 * caller may try the write.
 */
function fileTarget(
  records: RecordService,
  caller: Caller,
  requests: BatchRequest[],
  file: SpooledFile,
): { collection: CollectionDefinition; field: FieldDefinition; body: Record<string, unknown> } {
  const request = requests[file.index]
  const part = `requests.${file.index}.${file.key}`
  if (!request)
    throw new ValidationError({ [part]: { code: 'unknown_field', message: 'names no request of the batch' } })
  const target = targetOf(request)
  const action =
    target.method === 'POST' && target.id === undefined
      ? 'create'
      : target.method === 'PATCH' && target.id !== undefined
        ? 'update'
        : null
  if (!action) throw new BadRequestError('Files go with a create (POST) or an update (PATCH) of a record.')
  const collection = records.writableCollection(target.collection)
  // Refused before the file is stored, as a single write's upload is.
  assertMayTry(caller, collection, action)
  const name = file.key.endsWith('+') ? file.key.slice(0, -1) : file.key
  const field = collection.fields.find((candidate) => candidate.name === name && candidate.type === 'file')
  if (!field)
    throw new ValidationError({
      [file.key]: { code: 'unknown_field', message: 'is not a file field of this collection' },
    })
  request.body ??= {}
  if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body))
    throw new BadRequestError('A request with files needs a JSON object as its body.')
  return { collection, field, body: request.body as Record<string, unknown> }
}

/** Stores the files of a multipart batch and adds each to its request's body, as a form's files join a record's. */
async function attachFiles(
  records: RecordService,
  files: FileService,
  caller: Caller,
  requests: BatchRequest[],
  spooled: SpooledFile[],
  stored: Array<{ collection: CollectionDefinition; upload: UploadedFile }>,
): Promise<void> {
  const budget = files.uploadBudget()
  for (const file of spooled) {
    try {
      const target = fileTarget(records, caller, requests, file)
      stored.push({
        collection: target.collection,
        upload: await files.attachBatchFile(target, file, budget),
      })
    } catch (error) {
      throw error instanceof PlinthError && requests[file.index] ? failedAt(file.index, error) : error
    }
  }
}

/** Removes the stored files of a batch that no record took (all of them, when it failed). */
async function settle(
  files: FileService,
  stored: Array<{ collection: CollectionDefinition; upload: UploadedFile }>,
): Promise<void> {
  const byCollection = new Map<CollectionDefinition, UploadedFile[]>()
  for (const { collection, upload } of stored)
    byCollection.set(collection, [...(byCollection.get(collection) ?? []), upload])
  for (const [collection, uploads] of byCollection) await files.settle(collection, uploads)
}

/**
 * POST /api/batch: every request applies, or none does. A JSON body, or (as the PocketBase
 * SDK sends a batch with files) multipart/form-data with `@jsonPayload` and file parts
 * `requests.<index>.<field>`; a batch that fails keeps none of its files.
 */
export async function batchRoutes(
  app: FastifyInstance,
  options: { records: RecordService; files: FileService },
): Promise<void> {
  const { records, files } = options
  await app.register(fastifyMultipart, { throwFileSizeLimit: false })

  async function runBatch(caller: Caller, requests: BatchRequest[], requestId: string) {
    let index = 0
    try {
      return await records.batch(caller, async (scope) => {
        const results: Array<{ status: number; body: unknown }> = []
        // The database may run the whole batch again after a conflict with another write.
        for (index = 0; index < requests.length; index++)
          results.push(await run(scope, requests[index]!, requestId))
        return results
      })
    } catch (error) {
      if (!(error instanceof PlinthError) || error.code === 'batch_failed') throw error
      throw failedAt(index, error)
    }
  }

  async function runFormBatch(request: FastifyRequest, reply: FastifyReply) {
    const stored: Array<{ collection: CollectionDefinition; upload: UploadedFile }> = []
    let form: Awaited<ReturnType<FileService['readBatchForm']>> | undefined
    try {
      form = await files.readBatchForm(request)
      const requests = requestsOf(form.payload, '@jsonPayload')
      await attachFiles(records, files, request.caller, requests, form.files, stored)
      return await runBatch(request.caller, requests, request.id)
    } catch (error) {
      // The rest of a refused upload is not read: the connection cannot carry another request.
      if (!request.raw.readableEnded) reply.header('connection', 'close')
      throw error
    } finally {
      await form?.dispose()
      await settle(files, stored)
    }
  }

  app.post<{ Body: { requests: BatchRequest[] } }>(
    '/api/batch',
    // Only JSON bodies are checked here; a form's @jsonPayload is checked once it is read.
    { schema: { body: { content: { 'application/json': { schema: batchBody } } } } },
    async function batch(request, reply) {
      if (request.isMultipart()) return runFormBatch(request, reply)
      const requests = request.body === undefined ? requestsOf(request.body, 'body') : request.body.requests
      return runBatch(request.caller, requests, request.id)
    },
  )
}
