import type { JsonSchema } from './document-context.js'
import { ok, operation, queryParameter } from './operations.js'
import { optionallySignedIn, signedIn } from './security-schemes.js'

export const FILES_TAG = 'Files'

/** Operation ids of these endpoints; collections must not take them. */
export const fileOperationIds = ['downloadFile', 'createFileToken']

const bytes = {
  description: 'The file’s bytes.',
  content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
}

/** Files of file fields, and the tokens that open protected ones. */
export function filePaths(): Record<string, JsonSchema> {
  const tags = [FILES_TAG]
  return {
    '/api/files/{collection}/{recordId}/{filename}': {
      get: operation('get', 'downloadFile', tags, {
        summary: 'Download a file of a record',
        description:
          'Anyone with the link reads a file of a field that is not `protected`; a protected file needs ' +
          '`token` (from `POST /api/files/token`) or the request’s own credentials, of a caller whose view ' +
          'rule allows the record. Answers carry `ETag` and `Last-Modified` (304 on a match) and take ' +
          '`Range` (206, or 416). HTML, SVG, XML and other active types are always sent as attachments.',
        security: optionallySignedIn('get'),
        parameters: [
          {
            name: 'collection',
            in: 'path',
            required: true,
            description: 'Name or id.',
            schema: { type: 'string' },
          },
          { name: 'recordId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          {
            name: 'filename',
            in: 'path',
            required: true,
            description: 'The stored name.',
            schema: { type: 'string' },
          },
          queryParameter(
            'thumb',
            'A thumbnail size the field lists (or `100x100`), of a JPEG, PNG, WebP or GIF.',
            {
              type: 'string',
              pattern: '^\\d{1,4}x\\d{1,4}[tbf]?$',
            },
          ),
          queryParameter('download', '`1` sends the file as an attachment.', { type: 'string' }),
          queryParameter('token', 'A file token, for protected files.', { type: 'string' }),
        ],
        responses: {
          200: bytes,
          206: { ...bytes, description: 'The requested range of the file’s bytes.' },
          304: { description: 'The copy the client holds is current.' },
          416: { description: 'The range lies outside the file.' },
        },
        problems: [400, 401, 404, 422],
      }),
    },
    '/api/files/token': {
      post: operation('post', 'createFileToken', tags, {
        summary: 'Get a short-lived token for protected files',
        description:
          'The token reads protected files as the signed-in caller (their view rules apply) for ' +
          '`PLINTH_FILE_TOKEN_TTL` seconds (120 by default). API keys send their own header instead (403).',
        security: signedIn('post'),
        responses: {
          200: ok('The token.', {
            type: 'object',
            properties: { token: { type: 'string' } },
            required: ['token'],
          }),
        },
        problems: [403],
      }),
    },
  }
}
