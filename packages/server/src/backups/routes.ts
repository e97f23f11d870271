import fastifyMultipart from '@fastify/multipart'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { TokenService } from '../auth/index.js'
import { BadRequestError, PlinthError, refuseBody } from '../errors/index.js'
import { requireSuperuser } from '../identity/index.js'
import { routePattern } from '../metrics/index.js'
import { isArchiveName } from './destinations.js'
import type { BackupService, Restart } from './service.js'

const strict = { additionalProperties: false } as const
const nameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, strict)
const downloadQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) }, strict)
const noQuery = Type.Object({}, strict)
const DOWNLOAD_ROUTE = '/api/backups/:name'

type NameParams = { Params: Static<typeof nameParams> }

/** A name in the path is user input: only the names Plinth gives archives reach the storage. */
function archiveNamed(name: string): string {
  if (!isArchiveName(name))
    throw new BadRequestError('Not the name of a backup: plinth-backup-<time>.tar.gz.', 'invalid_query', {
      name: { code: 'invalid_name', message: 'must be the name of a backup, plinth-backup-<time>.tar.gz' },
    })
  return name
}

/**
 * `GET|POST /api/backups`, `GET|DELETE /api/backups/{name}`, `POST /api/backups/upload` and
 * `POST /api/backups/{name}/restore`, for superusers. A download also takes `?token=` with a
 * superuser's file token (`POST /api/files/token`), since a browser's link sends no header.
 * `restart` is null when the server cannot replace itself (not run by `plinth serve`): a
 * restore is then refused.
 *
 * @example
 * await app.register(backupsRoutes, { backups, tokens, restart: null, maxUploadBytes: 1024 ** 3 })
 */
export async function backupsRoutes(
  app: FastifyInstance,
  options: { backups: BackupService; tokens: TokenService; restart: Restart | null; maxUploadBytes: number },
): Promise<void> {
  const { backups, tokens, restart } = options
  // Only the upload reads a form; everywhere else multipart stays a 415.
  await app.register(fastifyMultipart, { limits: { files: 1, fields: 0, fileSize: options.maxUploadBytes } })

  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    const token = (request.query as { token?: unknown }).token
    if (request.method === 'GET' && routePattern(request) === DOWNLOAD_ROUTE && typeof token === 'string') {
      requireSuperuser(await tokens.verify(token, 'file'), 'download backups')
      return
    }
    requireSuperuser(request.caller, 'manage backups')
  })

  app.get('/api/backups', { schema: { querystring: noQuery } }, async function listBackups() {
    return backups.list()
  })

  app.post('/api/backups', { schema: { querystring: noQuery } }, async function createBackup(request, reply) {
    // PocketBase takes a name here; Plinth names archives by their time.
    refuseBody(request.body, 'A backup takes no options: archives are named by their time.')
    const created = await backups.create()
    return reply.code(201).header('location', `/api/backups/${created.name}`).send(created)
  })

  app.post(
    '/api/backups/upload',
    { schema: { querystring: noQuery } },
    async function uploadBackup(request, reply) {
      if (!request.isMultipart())
        throw new PlinthError(
          415,
          'unsupported_media_type',
          'Send the archive as multipart/form-data, in a part named file.',
        )
      const part = await request.file().catch(() => {
        throw new BadRequestError('The form is not valid multipart/form-data.')
      })
      // A refused part is read to its end, so the request finishes and its answer can go.
      if (part?.fieldname !== 'file') {
        part?.file.resume()
        throw new BadRequestError('Send the archive in a part named file.', 'validation_failed', {
          file: { code: 'missing', message: 'the archive goes in a part named file' },
        })
      }
      if (!isArchiveName(part.filename)) {
        part.file.resume()
        throw new BadRequestError(
          'The archive must keep its name, plinth-backup-<time>.tar.gz.',
          'validation_failed',
          {
            file: { code: 'invalid_name', message: 'must be named plinth-backup-<time>.tar.gz' },
          },
        )
      }
      const uploaded = await backups.upload(part.filename, part.file)
      if (part.file.truncated)
        throw new PlinthError(413, 'body_too_large', 'The archive is larger than the upload limit.')
      return reply.code(201).header('location', `/api/backups/${uploaded.name}`).send(uploaded)
    },
  )

  app.get<NameParams & { Querystring: Static<typeof downloadQuery> }>(
    DOWNLOAD_ROUTE,
    { schema: { params: nameParams, querystring: downloadQuery } },
    async function downloadBackup(request, reply) {
      const name = archiveNamed(request.params.name)
      const { body, size } = await backups.read(name)
      return reply
        .header('content-type', 'application/gzip')
        .header('content-length', size)
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(body)
    },
  )

  app.delete<NameParams>(
    '/api/backups/:name',
    { schema: { params: nameParams, querystring: noQuery } },
    async function deleteBackup(request, reply) {
      await backups.remove(archiveNamed(request.params.name))
      return reply.code(204).send()
    },
  )

  app.post<NameParams>(
    '/api/backups/:name/restore',
    { schema: { params: nameParams, querystring: noQuery } },
    async function restoreBackup(request, reply) {
      const name = archiveNamed(request.params.name)
      if (!restart)
        throw new PlinthError(
          409,
          'restore_unavailable',
          'This server cannot restart itself (it was not started by plinth serve): stop it and run plinth restore.',
        )
      const between = await backups.restore(name)
      // The server closes only once this answer has gone; closing waits for requests in flight.
      reply.raw.once('finish', () => restart(between))
      return reply.code(202).send({ name })
    },
  )
}
