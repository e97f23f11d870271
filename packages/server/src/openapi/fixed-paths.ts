import { fieldTypes, MAX_SEARCH_FIELDS, ruleNames } from '../collections/index.js'
import { searchLanguages } from '../db/index.js'
import { MAX_BATCH_REQUESTS } from '../records/index.js'
import { authResult } from './auth-scope.js'
import { dryRunParameter } from './collection-paths.js'
import { type JsonSchema, ref } from './document-context.js'
import { dateTime } from './operations.js'
import { anonymous, signedIn } from './security-schemes.js'
import { jsonContent, problems, writeProblems } from './shared-components.js'

export const TAGS = {
  health: 'Health checks',
  collections: 'Collection definitions',
  batch: 'Batch requests',
  setup: 'First-run setup',
} as const

const idempotencyKey = ref('IdempotencyKey', 'parameters')

const rule = {
  type: ['string', 'null'],
  maxLength: 4096,
  description: 'null: superusers only; "": everyone; otherwise a filter expression deciding who may.',
}

const fieldDefinition: JsonSchema = {
  type: 'object',
  description: 'One field of a collection. Options apply to the types named beside them.',
  properties: {
    id: { type: 'string', description: 'Stable across renames; generated when left out.' },
    name: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,62}$' },
    type: { type: 'string', enum: [...fieldTypes] },
    required: { type: 'boolean' },
    hidden: { type: 'boolean', description: 'Never returned, filtered or sorted on except by superusers.' },
    system: { type: 'boolean', readOnly: true },
    min: {
      type: ['number', 'string'],
      description: 'text/editor/password: length; number: value; date: ISO date.',
    },
    max: { type: ['number', 'string'], description: 'As min; json: size in bytes.' },
    pattern: { type: 'string', description: 'text: a regular expression the value must match.' },
    onlyInt: { type: 'boolean', description: 'number: whole numbers only.' },
    values: { type: 'array', items: { type: 'string' }, description: 'select: the allowed values.' },
    maxSelect: { type: 'integer', minimum: 1, description: 'select/relation: more than 1 holds a list.' },
    collection: { type: 'string', description: 'relation: the target collection.' },
    onDelete: { type: 'string', enum: ['cascade', 'set-null', 'restrict'] },
    onCreate: { type: 'boolean', description: 'autodate: set when the record is created.' },
    onUpdate: { type: 'boolean', description: 'autodate: set whenever the record is updated.' },
    onlyDomains: { type: 'array', items: { type: 'string' } },
    exceptDomains: { type: 'array', items: { type: 'string' } },
  },
  required: ['name', 'type'],
}

const indexDefinition: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    fields: { type: 'array', items: { type: 'string' }, minItems: 1 },
    unique: { type: 'boolean' },
  },
  required: ['fields'],
}

const rules = Object.fromEntries(ruleNames.map((name) => [name, rule]))

const viewQuery: JsonSchema = {
  type: 'string',
  maxLength: 10_000,
  description:
    'View collections only: one SELECT over other collections, returning an `id` column. Its records are read-only; the fields follow its columns.',
}

const search: JsonSchema = {
  type: ['object', 'null'],
  description:
    'Base and auth collections: a full-text index behind `search=` on lists. null or absent: no search.',
  properties: {
    fields: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_SEARCH_FIELDS,
      items: { type: 'string' },
      description: 'text, editor, email, url or single select fields, not hidden; the first weighs most.',
    },
    language: { type: 'string', enum: [...searchLanguages], default: 'simple' },
    fuzzy: { type: 'boolean', default: false, description: 'Also match words with a typo (trigrams).' },
  },
  required: ['fields'],
  additionalProperties: false,
}

const collectionDefinition: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string', enum: ['base', 'auth', 'view'] },
    system: { type: 'boolean' },
    fields: { type: 'array', items: ref('FieldDefinition') },
    indexes: { type: 'array', items: ref('IndexDefinition') },
    ...rules,
    viewQuery,
    options: { type: 'object' },
    search,
    created: dateTime,
    updated: dateTime,
  },
  required: [
    'id',
    'name',
    'type',
    'system',
    'fields',
    'indexes',
    ...ruleNames,
    'options',
    'created',
    'updated',
  ],
}

/** Keys other than these are refused; exported definitions (with id, system, dates) import as they are. */
function definitionInput(isCreate: boolean): JsonSchema {
  return {
    type: 'object',
    description: isCreate
      ? 'A new collection. System fields (id, created, updated, and the auth fields) are added.'
      : 'The parts to change. `fields` and `indexes`, when given, are the complete new lists: a kept field id with a new name is a rename, a missing one is dropped.',
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,62}$' },
      type: isCreate
        ? { type: 'string', enum: ['base', 'auth', 'view'], default: 'base' }
        : { type: 'string', description: 'Cannot change.' },
      fields: { type: 'array', maxItems: 200, items: ref('FieldDefinition') },
      indexes: { type: 'array', maxItems: 50, items: ref('IndexDefinition') },
      ...rules,
      viewQuery,
      options: { type: 'object' },
      search,
      id: { type: 'string' },
      system: { type: 'boolean' },
      created: { type: 'string' },
      updated: { type: 'string' },
    },
    ...(isCreate ? { required: ['name'] } : {}),
    additionalProperties: false,
  }
}

export const fixedSchemas: Record<string, JsonSchema> = {
  HealthStatus: {
    type: 'object',
    properties: { status: { type: 'string', const: 'ok' } },
    required: ['status'],
  },
  ReadinessStatus: {
    type: 'object',
    properties: {
      status: { type: 'string', const: 'ok' },
      database: { type: 'string', enum: ['sqlite', 'postgres'] },
    },
    required: ['status', 'database'],
  },
  FieldDefinition: fieldDefinition,
  IndexDefinition: indexDefinition,
  CollectionDefinition: collectionDefinition,
  CollectionDefinitionCreate: definitionInput(true),
  CollectionDefinitionUpdate: definitionInput(false),
  CollectionDefinitionList: {
    type: 'object',
    properties: {
      items: { type: 'array', items: ref('CollectionDefinition') },
      page: { type: 'integer' },
      perPage: { type: 'integer' },
      totalItems: { type: 'integer' },
      totalPages: { type: 'integer' },
    },
    required: ['items', 'page', 'perPage', 'totalItems', 'totalPages'],
  },
  BatchRequest: {
    type: 'object',
    properties: {
      requests: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_BATCH_REQUESTS,
        items: {
          type: 'object',
          properties: {
            method: { type: 'string', enum: ['POST', 'PATCH', 'DELETE'] },
            url: {
              type: 'string',
              maxLength: 2048,
              description:
                '/api/collections/{collection}/records for POST, …/records/{id} for PATCH and DELETE.',
            },
            body: { description: 'The body of that request.' },
            headers: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'Only If-Match is read.',
            },
          },
          required: ['method', 'url'],
          additionalProperties: false,
        },
      },
    },
    required: ['requests'],
    additionalProperties: false,
  },
  BatchResult: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        status: { type: 'integer' },
        body: { description: 'The record (null after a delete).' },
      },
      required: ['status', 'body'],
    },
  },
}

/** Operation ids of the fixed endpoints; collections must not take them. */
export const fixedOperationIds = [
  'health',
  'readiness',
  'listCollections',
  'createCollection',
  'viewCollection',
  'updateCollection',
  'deleteCollection',
  'batch',
  'setup',
]

/** Endpoints whose shape does not depend on the collections. */
export function fixedPaths(): Record<string, JsonSchema> {
  const definition = ref('CollectionDefinition')
  const migration = ref('CollectionMigration')
  return {
    '/api/health': {
      get: {
        operationId: 'health',
        tags: [TAGS.health],
        summary: 'Liveness: the process answers',
        security: anonymous,
        responses: { 200: { description: 'Alive.', content: jsonContent(ref('HealthStatus')) } },
      },
    },
    '/api/health/ready': {
      get: {
        operationId: 'readiness',
        tags: [TAGS.health],
        summary: 'Readiness: the database answers and the node is not draining',
        security: anonymous,
        responses: {
          200: { description: 'Ready.', content: jsonContent(ref('ReadinessStatus')) },
          ...problems(503),
        },
      },
    },
    '/api/collections': {
      get: {
        operationId: 'listCollections',
        summary: 'List every collection definition',
        tags: [TAGS.collections],
        security: signedIn('get'),
        responses: {
          200: { description: 'All definitions.', content: jsonContent(ref('CollectionDefinitionList')) },
          ...problems(401, 403, 429),
        },
      },
      post: {
        operationId: 'createCollection',
        summary: 'Create a collection (runs a migration)',
        tags: [TAGS.collections],
        security: signedIn('post'),
        parameters: [dryRunParameter, idempotencyKey],
        requestBody: { required: true, content: jsonContent(ref('CollectionDefinitionCreate')) },
        responses: {
          200: { description: 'With `dryRun`: the migration it would run.', content: jsonContent(migration) },
          201: {
            description: 'The created definition.',
            headers: { Location: ref('Location', 'headers') },
            content: jsonContent(definition),
          },
          ...problems(400, 401, 403, ...writeProblems),
        },
      },
    },
    '/api/collections/{name}': {
      parameters: [ref('CollectionName', 'parameters')],
      get: {
        operationId: 'viewCollection',
        summary: 'View a collection definition',
        tags: [TAGS.collections],
        security: signedIn('get'),
        responses: {
          200: { description: 'The definition.', content: jsonContent(definition) },
          ...problems(401, 403, 404, 429),
        },
      },
      patch: {
        operationId: 'updateCollection',
        summary: 'Change a collection (runs a migration; on failure nothing changes)',
        tags: [TAGS.collections],
        security: signedIn('patch'),
        parameters: [dryRunParameter, idempotencyKey],
        requestBody: { required: true, content: jsonContent(ref('CollectionDefinitionUpdate')) },
        responses: {
          200: {
            description: 'The changed definition; with `dryRun`, the migration it would run.',
            content: jsonContent({ oneOf: [definition, migration] }),
          },
          ...problems(400, 401, 403, 404, ...writeProblems),
        },
      },
      delete: {
        operationId: 'deleteCollection',
        summary: 'Delete a collection and its records',
        tags: [TAGS.collections],
        security: signedIn('delete'),
        parameters: [idempotencyKey],
        responses: {
          204: { description: 'Deleted.' },
          ...problems(400, 401, 403, 404, 409, 422, 429),
        },
      },
    },
    '/api/batch': {
      post: {
        operationId: 'batch',
        tags: [TAGS.batch],
        summary: 'Run record writes all or nothing',
        description:
          'Each request runs under the caller’s rules, in order, in one transaction. If one fails, none is applied and the problem names it in `failedIndex`.',
        parameters: [idempotencyKey],
        requestBody: {
          required: true,
          content: {
            ...jsonContent(ref('BatchRequest')),
            'multipart/form-data': {
              schema: {
                type: 'object',
                description:
                  'A batch with files, as the PocketBase SDK sends one: the requests as JSON in `@jsonPayload`, and each file as a part named `requests.<index>.<field>` (or `<field>+` to append), added to that request’s body. A failed batch keeps none of its files.',
                properties: {
                  '@jsonPayload': {
                    type: 'string',
                    contentMediaType: 'application/json',
                    description: 'The BatchRequest as JSON.',
                  },
                },
                patternProperties: {
                  '^requests\\.\\d+\\.[A-Za-z][A-Za-z0-9_]*\\+?$': {
                    type: 'array',
                    items: { type: 'string', format: 'binary' },
                  },
                },
                required: ['@jsonPayload'],
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          200: { description: 'Every request applied.', content: jsonContent(ref('BatchResult')) },
          ...problems(400, 401, ...writeProblems),
        },
      },
    },
    '/api/setup': {
      post: {
        operationId: 'setup',
        tags: [TAGS.setup],
        summary: 'Create the first superuser with the one-time setup token',
        security: anonymous,
        parameters: [ref('AuthMode', 'parameters'), idempotencyKey],
        requestBody: { required: true, content: jsonContent(ref('SetupRequest')) },
        responses: {
          201: {
            description: 'The superuser, signed in.',
            content: jsonContent(authResult(ref('AuthRecord'))),
          },
          ...problems(400, 401, ...writeProblems),
        },
      },
    },
  }
}
