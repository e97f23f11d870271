import type { FastifyInstance } from 'fastify'
import type { TokenService } from '../auth/index.js'
import { type CollectionDefinition, type CollectionRegistry, isRecordId } from '../collections/index.js'
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors/index.js'
import type { Caller } from '../identity/index.js'
import { type RecordService, readQuery } from '../records/index.js'
import { STORED_NAME } from './names.js'
import { sendFile } from './serve.js'
import { type FileRow, type FileService, objectKey, thumbsPrefix } from './service.js'
import { isMissingObject } from './storage/index.js'
import { Thumbnails, thumbSizeFor } from './thumbnails.js'

type FileParams = { collection: string; recordId: string; filename: string }

/** A collection by name or id, as file URLs from other clients use either. */
function collectionOf(registry: CollectionRegistry, nameOrId: string): CollectionDefinition {
  const collection = registry.get(nameOrId) ?? registry.all().find((candidate) => candidate.id === nameOrId)
  if (!collection) throw new NotFoundError()
  return collection
}

/** Serving files, and the short-lived tokens that open protected ones. */
export async function filesRoutes(
  app: FastifyInstance,
  options: { files: FileService; records: RecordService; registry: CollectionRegistry; tokens: TokenService },
): Promise<void> {
  const { files, records, registry, tokens } = options
  const thumbnails = new Thumbnails(files.storage, files.config.maxImagePixels)

  /** Whether the caller (from the token, else the request) may read the record under its view rule. */
  async function assertMayRead(
    caller: Caller,
    collection: CollectionDefinition,
    row: FileRow,
  ): Promise<void> {
    if (caller.isSuperuser) return
    if (!caller.auth && !caller.apiKey)
      throw new UnauthorizedError('This file is protected: send a file token from POST /api/files/token.')
    const readable = await records.readableIds(caller, collection, 'view', [row.record_id], '', {})
    if (!readable.has(row.record_id)) throw new NotFoundError()
  }

  app.get<{ Params: FileParams; Querystring: Record<string, unknown> }>(
    '/api/files/:collection/:recordId/:filename',
    async function serveFile(request, reply) {
      const { query, params } = request
      const { thumb, download, token } = readQuery(query, ['thumb', 'download', 'token'])
      const collection = collectionOf(registry, params.collection)
      if (!isRecordId(params.recordId) || !STORED_NAME.test(params.filename)) throw new NotFoundError()
      const row = await files.find(collection, params.recordId.toLowerCase(), params.filename)
      const field = row && collection.fields.find((candidate) => candidate.id === row.field_id)
      if (!row || !field) throw new NotFoundError()
      if (field.protected)
        await assertMayRead(token ? await tokens.verify(token, 'file') : request.caller, collection, row)
      const shared = {
        type: row.type,
        downloadName: row.original_name,
        isPublic: !field.protected,
        download: download !== undefined && download !== '0' && download !== 'false',
      }
      const size = thumb === undefined || thumb === '' ? null : thumbSizeFor(field, thumb, row.type)
      const original = objectKey(collection, row.name)
      const thumbKey = `${thumbsPrefix(collection, row.name)}${size}`
      try {
        const target = size
          ? {
              key: thumbKey,
              etag: `"${row.name}-${size}"`,
              ...(await thumbnails.ensure(original, thumbKey, size, row.type)),
            }
          : { key: original, etag: `"${row.name}"`, size: Number(row.size), modified: new Date(row.created) }
        return await sendFile(request, reply, files.storage, { ...shared, ...target })
      } catch (error) {
        if (!isMissingObject(error)) throw error
        if (size) thumbnails.forget(thumbKey)
        // The row says the file exists but the storage has lost it: a 404, and a line for the operator.
        request.log.warn(
          { collection: collection.name, file: row.name },
          'a file of a record is missing from storage',
        )
        throw new NotFoundError()
      }
    },
  )

  app.post('/api/files/token', async function fileToken(request) {
    const { caller } = request
    if (!caller.auth && !caller.apiKey) throw new UnauthorizedError()
    if (!caller.auth || !caller.session)
      throw new ForbiddenError(
        'File tokens are for signed-in sessions; an API key reads protected files with its own header.',
      )
    const token = await tokens.sign(
      caller.auth.collection,
      String(caller.auth.record.id),
      caller.session.id,
      {
        type: 'file',
        ttlSeconds: files.config.tokenTtl,
      },
    )
    return { token }
  })
}
