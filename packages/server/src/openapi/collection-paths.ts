import { type JsonSchema, ref } from './document-context.js'
import { operation, queryParameter, SUPERUSERS_ONLY } from './operations.js'
import { signedIn } from './security-schemes.js'
import { jsonContent } from './shared-components.js'

/** Operation ids of these endpoints; collections must not take them. */
export const collectionImportOperationIds = ['importCollections']

/** `?dryRun=1` on a collection write: the check and the migration, with nothing changed. */
export const dryRunParameter = queryParameter(
  'dryRun',
  'With `1` or `true`: check the change exactly as the write would, run it in a transaction that is rolled back, and answer the migration (200, `CollectionMigration`) instead of saving.',
  { type: 'string', enum: ['1', 'true', '0', 'false'] },
)

export const collectionMigrationSchemas: Record<string, JsonSchema> = {
  CollectionChange: {
    type: 'object',
    properties: {
      kind: {
        type: 'string',
        enum: ['create', 'update', 'delete', 'untracked'],
        description: '`untracked`: not in an import and kept, as `deleteMissing` is not set.',
      },
      name: { type: 'string' },
      previousName: { type: 'string', description: 'When the change renames the collection.' },
      details: {
        type: 'array',
        items: { type: 'string' },
        description: 'One line per field, index, rule or option changed, e.g. `+ field title (text)`.',
      },
    },
    required: ['kind', 'name', 'details'],
  },
  CollectionMigration: {
    type: 'object',
    properties: {
      dryRun: { type: 'boolean', description: 'true when nothing was changed.' },
      changes: { type: 'array', items: ref('CollectionChange') },
      collections: {
        type: 'array',
        items: ref('CollectionDefinition'),
        description: 'Each created or changed collection as it is (or would be) saved.',
      },
      statements: {
        type: 'array',
        description: 'The SQL the migration runs, in order, with its bound parameters.',
        items: {
          type: 'object',
          properties: { sql: { type: 'string' }, parameters: { type: 'array' } },
          required: ['sql', 'parameters'],
        },
      },
    },
    required: ['dryRun', 'changes', 'collections', 'statements'],
  },
  CollectionImport: {
    type: 'object',
    additionalProperties: false,
    properties: {
      collections: {
        type: 'array',
        maxItems: 1000,
        items: ref('CollectionDefinitionCreate'),
        description:
          'Every collection as it should be, in the shape `GET /api/collections` answers. System collections in the list are skipped.',
      },
      deleteMissing: {
        type: 'boolean',
        default: false,
        description: 'Delete the collections (and their records) that are not in the list.',
      },
    },
    required: ['collections'],
  },
}

/** `PUT /api/collections/import`, for superusers. */
export function collectionImportPaths(tag: string): Record<string, JsonSchema> {
  return {
    '/api/collections/import': {
      put: operation('put', 'importCollections', [tag], {
        summary: 'Make the collections match a list, as one migration',
        description: `${SUPERUSERS_ONLY} Collections are matched by id, then by name, then by their fields' ids; a collection matched under another name is renamed and keeps its records. All changes run as one migration: if one is refused, nothing changes and the problem names the collection.`,
        security: signedIn('put'),
        parameters: [dryRunParameter],
        body: { schema: ref('CollectionImport') },
        responses: {
          200: {
            description: 'What changed (or would change).',
            content: jsonContent(ref('CollectionMigration')),
          },
        },
        problems: [403, 409],
      }),
    },
  }
}
