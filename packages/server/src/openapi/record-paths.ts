import { type CollectionDefinition, isMultiValued, type RuleName } from '../collections/index.js'
import { type DocumentContext, type JsonSchema, operationId, ref, schemaName } from './document-context.js'
import { type Method, signedIn } from './security-schemes.js'
import { jsonContent, problems, writeProblems } from './shared-components.js'

const parameter = (name: string) => ref(name, 'parameters')
const header = (name: string) => ref(name, 'headers')

/** How a rule reads to someone deciding whether to call the operation. */
function ruleNote(collection: CollectionDefinition, rule: RuleName, denied: string): string {
  const value = collection[rule]
  if (value === null) return 'Superusers only.'
  if (value.trim() === '') return 'Open to everyone.'
  return `Allowed when the collection's ${rule} matches; ${denied}.`
}

/** A null rule admits superusers only, so a token is required; otherwise it is optional. */
function securityOf(collection: CollectionDefinition, rule: RuleName, method: Method): JsonSchema {
  return collection[rule] === null ? { security: signedIn(method) } : {}
}

/**
 * A write's body: JSON, and for collections with file fields also multipart/form-data as
 * the PocketBase SDK sends it.
 */
function writeContent(collection: CollectionDefinition, schema: JsonSchema): JsonSchema {
  const fileFields = collection.fields.filter((field) => field.type === 'file')
  if (fileFields.length === 0) return jsonContent(schema)
  const binary = { type: 'string', format: 'binary' }
  const properties: Record<string, JsonSchema> = {
    '@jsonPayload': {
      type: 'string',
      contentMediaType: 'application/json',
      description: 'Field values as JSON.',
    },
  }
  for (const field of fileFields)
    properties[field.name] = isMultiValued(field) ? { type: 'array', items: binary } : binary
  return {
    ...jsonContent(schema),
    'multipart/form-data': {
      schema: {
        type: 'object',
        description:
          'Field values as form values (or JSON in an `@jsonPayload` part) and files as parts of file ' +
          'fields; on update `<field>+` appends files and `<field>-` removes files by name.',
        properties,
        additionalProperties: true,
      },
    },
  }
}

/** The records API of one collection, at concrete paths so every operation is typed. */
export function recordPaths(
  collection: CollectionDefinition,
  context: DocumentContext,
): Record<string, JsonSchema> {
  const base = context.baseOf(collection.name)
  const tags = [collection.name]
  const listPath = `/api/collections/${collection.name}/records`
  const record = ref(schemaName(base, 'Record'))
  const isWritable = collection.type !== 'view'

  const list: JsonSchema = {
    operationId: operationId('list', base),
    tags,
    summary: `List records of ${collection.name}`,
    description: ruleNote(collection, 'listRule', 'records it denies are left out of the list'),
    ...securityOf(collection, 'listRule', 'get'),
    parameters: [
      'Filter',
      'Sort',
      'Page',
      'PerPage',
      'Fields',
      'Expand',
      'SkipTotal',
      ...(collection.search ? ['Search', 'Highlight'] : []),
    ].map(parameter),
    responses: {
      200: { description: 'One page of records.', content: jsonContent(ref(schemaName(base, 'List'))) },
      ...problems(400, 401, 403, 429),
    },
  }
  const create: JsonSchema = {
    operationId: operationId('create', base),
    tags,
    summary: `Create a record of ${collection.name}`,
    description: ruleNote(collection, 'createRule', 'otherwise the answer is 403'),
    ...securityOf(collection, 'createRule', 'post'),
    parameters: ['Fields', 'Expand', 'IdempotencyKey'].map(parameter),
    requestBody: { required: true, content: writeContent(collection, ref(schemaName(base, 'Create'))) },
    responses: {
      201: {
        description: 'The created record.',
        headers: { Location: header('Location'), ETag: header('ETag') },
        content: jsonContent(record),
      },
      ...problems(400, 401, 403, ...writeProblems),
    },
  }
  const view: JsonSchema = {
    operationId: operationId('view', base),
    tags,
    summary: `View a record of ${collection.name}`,
    description: ruleNote(collection, 'viewRule', 'a record it denies answers 404'),
    ...securityOf(collection, 'viewRule', 'get'),
    parameters: ['Fields', 'Expand', 'IfNoneMatch'].map(parameter),
    responses: {
      200: { description: 'The record.', headers: { ETag: header('ETag') }, content: jsonContent(record) },
      304: {
        description: 'The record still has the ETag sent in If-None-Match.',
        headers: { ETag: header('ETag') },
      },
      ...problems(400, 401, 403, 404, 429),
    },
  }
  const update: JsonSchema = {
    operationId: operationId('update', base),
    tags,
    summary: `Update a record of ${collection.name}`,
    description: ruleNote(
      collection,
      'updateRule',
      collection.options.updateRuleChecksNewRecord === false
        ? 'a record it denies answers 404'
        : 'a record it denies answers 404, and an update that would leave a record it denies answers 403',
    ),
    ...securityOf(collection, 'updateRule', 'patch'),
    parameters: ['Fields', 'Expand', 'IfMatch', 'IdempotencyKey'].map(parameter),
    requestBody: { required: true, content: writeContent(collection, ref(schemaName(base, 'Update'))) },
    responses: {
      200: {
        description: 'The updated record.',
        headers: { ETag: header('ETag') },
        content: jsonContent(record),
      },
      ...problems(400, 401, 403, 404, 412, ...writeProblems),
    },
  }
  const remove: JsonSchema = {
    operationId: operationId('delete', base),
    tags,
    summary: `Delete a record of ${collection.name}`,
    description: ruleNote(collection, 'deleteRule', 'a record it denies answers 404'),
    ...securityOf(collection, 'deleteRule', 'delete'),
    parameters: ['IfMatch', 'IdempotencyKey'].map(parameter),
    responses: {
      204: { description: 'The record is deleted.' },
      ...problems(400, 401, 403, 404, 409, 412, 422, 429),
    },
  }

  return {
    [listPath]: isWritable ? { get: list, post: create } : { get: list },
    [`${listPath}/{id}`]: {
      parameters: [parameter('RecordId')],
      ...(isWritable ? { get: view, patch: update, delete: remove } : { get: view }),
    },
  }
}
