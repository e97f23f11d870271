import {
  alwaysReadOnlyFields,
  type CollectionDefinition,
  type FieldDefinition,
  fieldKind,
  isMultiValued,
  isView,
  passwordPolicyOf,
} from '../collections/index.js'
import { findBackRelation } from '../query/index.js'
import { MAX_BACK_RELATED } from '../records/index.js'
import { type DocumentContext, type JsonSchema, ref, schemaName } from './document-context.js'

/**
 * Whether a field leaves the server for callers other than superusers. Superusers
 * also receive hidden fields, but the document describes what every reader of a
 * collection gets; Record schemas stay open (no additionalProperties: false) so
 * a superuser's fuller records still match them.
 */
function isDocumentedOnRead(field: FieldDefinition): boolean {
  if (field.hidden || field.type === 'password') return false
  return !(field.system && field.name === 'tokenKey')
}

/** Mirrors the record validator, so a Create or Update schema accepts what the server accepts. */
function writableFields(
  collection: CollectionDefinition,
  mode: 'create' | 'update',
  context: DocumentContext,
): FieldDefinition[] {
  return collection.fields.filter((field) => {
    if (alwaysReadOnlyFields.has(field.name) || field.type === 'autodate') return false
    // The password is the one hidden field everybody writes (sign-up, password change).
    if (field.type === 'password') return true
    // Naming hidden fields would tell other callers what the server keeps from them.
    if (field.hidden) return context.viewer.isSuperuser
    if (collection.type === 'auth' && field.name === 'verified') return context.viewer.isSuperuser
    if (collection.type === 'auth' && field.name === 'email') return mode === 'create'
    return true
  })
}

function withNull(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...schema.anyOf, { type: 'null' }] }
  if (typeof schema.type === 'string' && !('enum' in schema) && !('const' in schema))
    return { ...schema, type: [schema.type, 'null'] }
  return { anyOf: [schema, { type: 'null' }] }
}

function nullableUnless(isPresent: boolean | undefined, schema: JsonSchema): JsonSchema {
  return isPresent ? schema : withNull(schema)
}

/** An optional email or URL is an empty string when not set. */
function emptyOr(isRequired: boolean | undefined, schema: JsonSchema): JsonSchema {
  return isRequired ? schema : { anyOf: [schema, { type: 'string', maxLength: 0 }] }
}

const uuid: JsonSchema = { type: 'string', format: 'uuid' }
const dateTime: JsonSchema = { type: 'string', format: 'date-time' }

function numberSchema(field: FieldDefinition): JsonSchema {
  return {
    type: field.onlyInt ? 'integer' : 'number',
    ...(typeof field.min === 'number' ? { minimum: field.min } : {}),
    ...(typeof field.max === 'number' ? { maximum: field.max } : {}),
  }
}

function relationTarget(field: FieldDefinition, context: DocumentContext): string {
  return field.collection && context.isVisible(field.collection)
    ? `The id of a record of ${field.collection}.`
    : 'The id of the related record.'
}

/** A field's value in a record as the API returns it. */
function readSchema(field: FieldDefinition, context: DocumentContext): JsonSchema {
  if (field.system && field.name === 'id') return { ...uuid, readOnly: true }
  const isMulti = isMultiValued(field)
  switch (field.type) {
    case 'email':
      return emptyOr(field.required, { type: 'string', format: 'email' })
    case 'url':
      return emptyOr(field.required, { type: 'string', format: 'uri' })
    case 'number':
      return numberSchema(field)
    case 'bool':
      return { type: 'boolean' }
    case 'date':
      return nullableUnless(field.required, dateTime)
    case 'autodate':
      return { ...nullableUnless(field.onCreate, dateTime), readOnly: true }
    case 'select': {
      const values = field.values ?? []
      if (isMulti) return { type: 'array', items: { type: 'string', enum: values }, uniqueItems: true }
      return field.required
        ? { type: 'string', enum: values }
        : { type: ['string', 'null'], enum: [...values, null] }
    }
    case 'json':
      return { description: 'Any JSON value.' }
    case 'relation': {
      const description = relationTarget(field, context)
      if (isMulti) return { type: 'array', items: { ...uuid, description }, uniqueItems: true }
      return { ...nullableUnless(field.required, uuid), description }
    }
    case 'file': {
      const description = 'The stored name of a file, served at /api/files/{collection}/{id}/{name}.'
      if (isMulti) return { type: 'array', items: { type: 'string', description } }
      return { type: 'string', description }
    }
    default:
      return { type: 'string' }
  }
}

function withFormat(field: FieldDefinition, base: JsonSchema, context: DocumentContext): JsonSchema {
  switch (field.type) {
    case 'email':
      return { ...base, format: 'email' }
    case 'url':
      return { ...base, format: 'uri' }
    case 'date':
      return {
        ...base,
        format: 'date-time',
        description: 'ISO-8601 with a time zone; a bare date means midnight UTC.',
      }
    case 'relation': {
      const description = relationTarget(field, context)
      return isMultiValued(field) ? { ...base, items: { ...uuid, description } } : { ...uuid, description }
    }
    default:
      return base
  }
}

/** What `required` means to the validator: no null, no empty string or list, and a bool that is true. */
function nonEmpty(field: FieldDefinition, schema: JsonSchema): JsonSchema {
  if (field.type === 'bool') return { type: 'boolean', const: true }
  if (field.type === 'select' && !isMultiValued(field)) return { type: 'string', enum: field.values ?? [] }
  if (schema.type === 'array') return { ...schema, minItems: 1 }
  if (schema.type === 'string') return { ...schema, minLength: Math.max(Number(schema.minLength ?? 0), 1) }
  return schema
}

/**
 * A field's value in a request body: the validator's own schema (so bounds,
 * patterns and enums match), with formats added for generated clients. On an
 * optional field `null` stores the field's empty value.
 */
function writeSchema(field: FieldDefinition, context: DocumentContext): JsonSchema {
  const base = fieldKind(field.type).valueSchema(field)
  if (field.type === 'password') return { ...base, format: 'password', writeOnly: true }
  if (field.type === 'json') return { description: 'Any JSON value.' }
  const schema = withFormat(field, base, context)
  return field.required ? nonEmpty(field, schema) : withNull(schema)
}

function expandSchema(collection: CollectionDefinition, context: DocumentContext): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  for (const field of collection.fields) {
    if (field.type !== 'relation' || !isDocumentedOnRead(field)) continue
    const target =
      field.collection && context.isVisible(field.collection)
        ? ref(schemaName(context.baseOf(field.collection), 'Record'))
        : { type: 'object', description: 'The related record.' }
    properties[field.name] = isMultiValued(field) ? { type: 'array', items: target } : target
  }
  for (const source of context.allDescribed)
    for (const field of source.fields) {
      if (field.type !== 'relation' || field.collection !== collection.name || !isDocumentedOnRead(field))
        continue
      const name = `${source.name}_via_${field.name}`
      const back = findBackRelation(name, collection, context.described, false)
      if (back?.source !== source) continue
      const target = ref(schemaName(context.baseOf(source.name), 'Record'))
      properties[name] = back.isSingle
        ? { ...target, description: `The ${source.name} record whose ${field.name} points here.` }
        : {
            type: 'array',
            items: target,
            maxItems: MAX_BACK_RELATED,
            description: `The ${source.name} records whose ${field.name} points here, oldest first.`,
          }
    }
  return {
    type: 'object',
    description:
      'Related records asked for with `expand`, and records pointing back (`<collection>_via_<field>`); a record the caller may not view is left out.',
    properties,
  }
}

/**
 * A view's values are whatever its query returns: any of them may be null (an outer join),
 * and its ids need not be record ids.
 */
function viewReadSchema(field: FieldDefinition, context: DocumentContext): JsonSchema {
  if (field.system && field.name === 'id') return { type: 'string', readOnly: true }
  return withNull(readSchema(field, context))
}

/** `<Name>Record`: a record as the API returns it without `fields`. */
export function recordSchema(collection: CollectionDefinition, context: DocumentContext): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const field of collection.fields) {
    if (!isDocumentedOnRead(field)) continue
    properties[field.name] = isView(collection) ? viewReadSchema(field, context) : readSchema(field, context)
    // The email of an auth record is shown to its owner, to superusers, or when emailVisibility is on.
    if (!(collection.type === 'auth' && field.name === 'email')) required.push(field.name)
  }
  properties.collectionId = { type: 'string', const: collection.id }
  properties.collectionName = { type: 'string', const: collection.name }
  required.push('collectionId', 'collectionName')
  properties.expand = expandSchema(collection, context)
  return {
    type: 'object',
    description: `A record of ${collection.name}. The \`fields\` parameter returns a subset of these properties.`,
    properties,
    required,
  }
}

function bodySchema(
  collection: CollectionDefinition,
  mode: 'create' | 'update',
  context: DocumentContext,
): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  if (mode === 'create')
    properties.id = {
      ...uuid,
      description: 'Optional: the id of the new record (a UUID not in use). It cannot change later.',
    }
  for (const field of writableFields(collection, mode, context)) {
    properties[field.name] = writeSchema(field, context)
    if (mode === 'create' && field.required) required.push(field.name)
  }
  if (collection.type === 'auth') {
    const { minLength, maxLength } = passwordPolicyOf(collection)
    properties.password = { ...properties.password, minLength, maxLength }
    properties.passwordConfirm = {
      type: 'string',
      maxLength: 256,
      format: 'password',
      writeOnly: true,
      description: 'Must equal `password`; sent only together with it.',
    }
    if (mode === 'create') required.push('passwordConfirm')
  }
  return {
    type: 'object',
    description:
      mode === 'create'
        ? `The body that creates a record of ${collection.name}. \`null\` sets an optional field to its empty value.`
        : `The fields of a record of ${collection.name} to change. \`null\` sets an optional field to its empty value.`,
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  }
}

export function createSchema(collection: CollectionDefinition, context: DocumentContext): JsonSchema {
  return bodySchema(collection, 'create', context)
}

export function updateSchema(collection: CollectionDefinition, context: DocumentContext): JsonSchema {
  return bodySchema(collection, 'update', context)
}

/** A searchable collection's list items may carry the snippets `highlight=1` asks for. */
function listItem(collection: CollectionDefinition, context: DocumentContext): JsonSchema {
  const record = ref(schemaName(context.baseOf(collection.name), 'Record'))
  if (!collection.search) return record
  const snippet = { type: 'string', description: 'HTML: escaped text with the matches in <mark>.' }
  const highlight: JsonSchema = {
    type: 'object',
    description: 'With `highlight=1`: a snippet per search field that matched.',
    properties: Object.fromEntries(collection.search.fields.map((name) => [name, snippet])),
    additionalProperties: false,
  }
  return { allOf: [record, { type: 'object', properties: { highlight } }] }
}

export function listSchema(collection: CollectionDefinition, context: DocumentContext): JsonSchema {
  return {
    type: 'object',
    description: `One page of records of ${collection.name}.`,
    properties: {
      items: { type: 'array', items: listItem(collection, context) },
      page: { type: 'integer', minimum: 1 },
      perPage: { type: 'integer', minimum: 1 },
      totalItems: { type: 'integer', minimum: -1, description: '-1 when `skipTotal` was set.' },
      totalPages: { type: 'integer', minimum: -1, description: '-1 when `skipTotal` was set.' },
    },
    required: ['items', 'page', 'perPage', 'totalItems', 'totalPages'],
  }
}
