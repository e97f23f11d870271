import { type JsonSchema, ref } from './document-context.js'
import { dateTime, ok, operation, queryParameter, SUPERUSERS_ONLY } from './operations.js'
import { signedIn } from './security-schemes.js'

export const BACKUPS_TAG = 'Backups'

/** Operation ids of these endpoints; collections must not take them. */
export const backupOperationIds = [
  'listBackups',
  'createBackup',
  'uploadBackup',
  'downloadBackup',
  'deleteBackup',
  'restoreBackup',
]

export const backupSchemas: Record<string, JsonSchema> = {
  Backup: {
    type: 'object',
    properties: {
      name: { type: 'string', description: '`plinth-backup-<time>.tar.gz`: the only names archives have.' },
      size: { type: 'integer', description: 'Bytes.' },
      created: { ...dateTime, description: 'When the backup was made.' },
    },
    required: ['name', 'size', 'created'],
  },
}

const backupName: JsonSchema = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'The archive’s name, as the list gives it. Any other name is a 400.',
  schema: {
    type: 'string',
    pattern: '^plinth-backup-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}Z\\.tar\\.gz$',
  },
}

/** Archives of the backup destination (PLINTH_BACKUP_TO), for superusers. */
export function backupPaths(): Record<string, JsonSchema> {
  const tags = [BACKUPS_TAG]
  const backup = ref('Backup')
  return {
    '/api/backups': {
      get: operation('get', 'listBackups', tags, {
        summary: 'List backups',
        description: `${SUPERUSERS_ONLY} The archives of the backup destination, newest first.`,
        security: signedIn('get'),
        responses: { 200: ok('The archives.', { type: 'array', items: backup }) },
        problems: [400, 403],
      }),
      post: operation('post', 'createBackup', tags, {
        summary: 'Make a backup now',
        description: `${SUPERUSERS_ONLY} The same archive as \`plinth backup\`: database, files of records on local disk, instance secret. Takes no body (or \`{}\`). One backup, upload or restore runs at a time (409).`,
        security: signedIn('post'),
        responses: {
          201: { ...ok('The new archive.', backup), headers: { Location: ref('Location', 'headers') } },
        },
        problems: [400, 403, 409],
      }),
    },
    '/api/backups/upload': {
      post: {
        ...operation('post', 'uploadBackup', tags, {
          summary: 'Upload an archive',
          description: `${SUPERUSERS_ONLY} \`multipart/form-data\` with the archive in a part named \`file\`, under its own name (\`plinth-backup-<time>.tar.gz\`). It is checked as a restore checks it (manifest, versions, every checksum) before it is kept; a name taken already is a 400.`,
          security: signedIn('post'),
          responses: {
            201: { ...ok('The archive, kept.', backup), headers: { Location: ref('Location', 'headers') } },
          },
          problems: [400, 403, 409, 413, 415],
        }),
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                properties: { file: { type: 'string', format: 'binary' } },
                required: ['file'],
              },
            },
          },
        },
      },
    },
    '/api/backups/{name}': {
      parameters: [backupName],
      get: operation('get', 'downloadBackup', tags, {
        summary: 'Download an archive',
        description: `${SUPERUSERS_ONLY} With a bearer token, or with \`token\`: a superuser’s file token from \`POST /api/files/token\`, for a download link.`,
        security: signedIn('get'),
        parameters: [queryParameter('token', 'A superuser’s file token.', { type: 'string' })],
        responses: {
          200: {
            description: 'The archive, as an attachment.',
            content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } } },
          },
        },
        problems: [400, 403, 404],
      }),
      delete: operation('delete', 'deleteBackup', tags, {
        summary: 'Delete an archive',
        description: SUPERUSERS_ONLY,
        security: signedIn('delete'),
        responses: { 204: { description: 'Deleted.' } },
        problems: [403, 404],
      }),
    },
    '/api/backups/{name}/restore': {
      parameters: [backupName],
      post: operation('post', 'restoreBackup', tags, {
        summary: 'Restore an archive over this instance',
        description: `${SUPERUSERS_ONLY} The archive is checked first (a bad one is a 400 and nothing happens). Then the answer (202) goes out, and the server restarts: readiness turns 503, requests in flight finish, the database closes, the archive replaces the database, the files of records and the secret (as \`plinth restore --force\`), and the server starts again on it. Meanwhile connections are refused: poll \`/api/health/ready\`. A server not run by \`plinth serve\` cannot restart itself and answers 409.`,
        security: signedIn('post'),
        responses: {
          202: ok('The restore begins.', {
            type: 'object',
            properties: { name: { type: 'string' } },
            required: ['name'],
          }),
        },
        problems: [403, 404, 409],
      }),
    },
  }
}
