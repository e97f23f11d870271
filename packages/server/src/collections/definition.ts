import { randomBytes } from 'node:crypto'
import { type FieldErrors, ValidationError } from '../errors/index.js'
import { type CollectionOptions, checkCollectionOptions, followFieldRenames } from './collection-options.js'
import { fieldKind } from './fields/index.js'
import { isReservedFieldName, isSystemCollectionName, isValidCollectionName, isValidName } from './names.js'
import { followSearchRenames, parseSearchOptions } from './search-options.js'
import { systemFieldsFor } from './system-fields.js'
import {
  type CollectionDefinition,
  type CollectionType,
  type FieldDefinition,
  fieldTypes,
  hasColumn,
  type IndexDefinition,
  ruleNames,
} from './types.js'
import { checkViewShape, parseViewQuery } from './view-definition.js'

const MAX_FIELDS = 200
const MAX_INDEXES = 50
const MAX_RULE_LENGTH = 4096
const commonFieldKeys = new Set(['id', 'name', 'type', 'required', 'hidden', 'system'])
const collectionKeys = new Set([
  'id',
  'name',
  'type',
  'fields',
  'indexes',
  'options',
  'system',
  'created',
  'updated',
  'viewQuery',
  'search',
  ...ruleNames,
])
const STABLE_ID = /^[a-z0-9_]{3,40}$/
// Each auth collection has exactly one password field, its system field.
const userFieldTypes = fieldTypes.filter((type) => type !== 'password')

/** A short random id for fields and indexes; stable across renames. */
export function newStableId(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`
}

type Input = Record<string, unknown>

function isObject(value: unknown): value is Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export interface DefinitionEnvironment {
  /** Whether a collection of this name exists after the change (including the one being defined). */
  collectionExists(name: string): boolean
  now: string
}

/** Checks a whole definition for POST /api/collections and returns it complete. */
export function parseNewCollection(input: unknown, env: DefinitionEnvironment): CollectionDefinition {
  if (!isObject(input))
    throw new ValidationError({ body: { code: 'invalid_type', message: 'must be a JSON object' } })
  const errors: FieldErrors = {}
  checkKeys(input, errors)
  const name = input.name
  if (!isValidCollectionName(name) || isSystemCollectionName(name))
    errors.name = {
      code: 'invalid_name',
      message: 'must start with a letter and hold only letters, digits and _ (at most 63)',
    }
  const type = input.type ?? 'base'
  if (type !== 'base' && type !== 'auth' && type !== 'view')
    errors.type = { code: 'invalid_value', message: 'must be "base", "auth" or "view"' }
  const collectionType: CollectionType = type === 'auth' || type === 'view' ? type : 'base'
  const fields = parseFields(input.fields ?? [], [], collectionType, String(name), env, errors)
  const indexes = parseIndexes(collectionType === 'view' ? [] : (input.indexes ?? []), [], fields, errors)
  if (collectionType === 'view' && Array.isArray(input.indexes) && input.indexes.length > 0)
    errors.indexes = {
      code: 'invalid_value',
      message: 'a view cannot have indexes; index the collections it reads',
    }
  const viewQuery = parseViewQuery(input, collectionType, errors)
  // A schema file keeps collection ids across databases, so a given, well-formed id is kept.
  if (
    input.id !== undefined &&
    (typeof input.id !== 'string' || !STABLE_ID.test(input.id) || input.id.startsWith('sys_'))
  )
    errors.id = { code: 'invalid_value', message: 'must be 3 to 40 lower-case letters, digits or _' }
  const definition: CollectionDefinition = {
    id: typeof input.id === 'string' && !errors.id ? input.id : newStableId('c'),
    name: String(name),
    type: collectionType,
    system: false,
    fields,
    indexes: collectionType === 'auth' ? withAuthIndexes(indexes) : indexes,
    ...parseRules(input, null, errors, collectionType),
    ...(viewQuery === undefined ? {} : { viewQuery }),
    options: (input.options ?? {}) as CollectionOptions,
    created: env.now,
    updated: env.now,
  }
  if (!errors.type) checkCollectionOptions(input.options ?? {}, definition, errors)
  const search = parseSearchOptions(input.search, definition, errors)
  if (search) definition.search = search
  checkViewShape(definition, errors)
  if (Object.keys(errors).length > 0)
    throw new ValidationError(errors, 'The collection definition is invalid.')
  return definition
}

/** Applies PATCH /api/collections/{name}: `fields` and `indexes`, when given, are complete new lists. */
export function applyCollectionPatch(
  current: CollectionDefinition,
  input: unknown,
  env: DefinitionEnvironment,
): CollectionDefinition {
  if (!isObject(input))
    throw new ValidationError({ body: { code: 'invalid_type', message: 'must be a JSON object' } })
  const errors: FieldErrors = {}
  checkKeys(input, errors)
  if (input.id !== undefined && input.id !== current.id)
    errors.id = { code: 'read_only', message: 'the id of a collection cannot change' }
  if (input.type !== undefined && input.type !== current.type)
    errors.type = { code: 'read_only', message: 'the type of a collection cannot change' }
  let name = current.name
  if (input.name !== undefined && input.name !== current.name) {
    if (current.system) errors.name = { code: 'read_only', message: 'system collections cannot be renamed' }
    else if (!isValidCollectionName(input.name) || isSystemCollectionName(input.name))
      errors.name = {
        code: 'invalid_name',
        message: 'must start with a letter and hold only letters, digits and _ (at most 63)',
      }
    else name = input.name
  }
  const fields =
    input.fields === undefined
      ? current.fields
      : parseFields(input.fields, current.fields, current.type, name, env, errors)
  const indexes =
    input.indexes === undefined && input.fields === undefined
      ? current.indexes
      : parseIndexes(
          input.indexes ?? followRenames(current.indexes, current.fields, fields),
          current.indexes,
          fields,
          errors,
        )
  const viewQuery =
    current.type === 'view' && input.viewQuery === undefined
      ? current.viewQuery
      : parseViewQuery(input, current.type, errors)
  const definition: CollectionDefinition = {
    ...current,
    name,
    fields,
    indexes: current.type === 'auth' ? withAuthIndexes(indexes) : indexes,
    ...parseRules(input, current, errors, current.type),
    ...(viewQuery === undefined ? {} : { viewQuery }),
    options:
      input.options === undefined
        ? followFieldRenames(current.options, current.fields, fields)
        : (input.options as CollectionOptions),
    updated: env.now,
  }
  // Checked on every change: new fields or indexes can invalidate options that were fine.
  checkCollectionOptions(definition.options, definition, errors)
  // Likewise search: a field it uses may have been dropped, hidden or renamed.
  const search =
    input.search === undefined
      ? parseSearchOptions(
          followSearchRenames(current.search, current.fields, fields),
          definition,
          errors,
          current.fields,
        )
      : parseSearchOptions(input.search, definition, errors)
  if (search) definition.search = search
  else delete definition.search
  checkViewShape(definition, errors)
  if (Object.keys(errors).length > 0)
    throw new ValidationError(errors, 'The collection definition is invalid.')
  return definition
}

function checkKeys(input: Input, errors: FieldErrors): void {
  for (const key of Object.keys(input))
    if (!collectionKeys.has(key))
      errors[key] = { code: 'unknown_field', message: 'is not part of a collection definition' }
}

const writeRules = new Set(['createRule', 'updateRule', 'deleteRule'])

function parseRules(
  input: Input,
  current: CollectionDefinition | null,
  errors: FieldErrors,
  type: CollectionType,
) {
  const rules = {} as Record<(typeof ruleNames)[number], string | null>
  for (const rule of ruleNames) {
    const value = input[rule] === undefined ? (current ? current[rule] : null) : input[rule]
    if (value !== null && (typeof value !== 'string' || value.length > MAX_RULE_LENGTH))
      errors[rule] = {
        code: 'invalid_rule',
        message: `must be null or a filter expression of at most ${MAX_RULE_LENGTH} characters`,
      }
    else if (value !== null && type === 'view' && writeRules.has(rule))
      errors[rule] = { code: 'invalid_rule', message: 'must be null: the records of a view are read-only' }
    rules[rule] = typeof value === 'string' ? value : null
  }
  return rules
}

function parseFields(
  input: unknown,
  current: FieldDefinition[],
  type: CollectionType,
  collectionName: string,
  env: DefinitionEnvironment,
  errors: FieldErrors,
): FieldDefinition[] {
  if (!Array.isArray(input) || input.length > MAX_FIELDS) {
    errors.fields = { code: 'invalid_type', message: `must be a list of at most ${MAX_FIELDS} fields` }
    return current
  }
  const system = current.length > 0 ? current.filter((f) => f.system) : systemFieldsFor(type)
  const currentById = new Map(current.map((f) => [f.id, f]))
  const result: FieldDefinition[] = [...system]
  const names = new Map(system.map((f) => [f.name.toLowerCase(), f.id]))
  const ids = new Set(system.map((f) => f.id))
  input.forEach((raw, index) => {
    const at = `fields.${index}`
    if (!isObject(raw)) {
      errors[at] = { code: 'invalid_type', message: 'must be an object' }
      return
    }
    // Exported schemas list the system fields too; they are accepted when unchanged.
    if (
      raw.system === true &&
      typeof raw.id === 'string' &&
      system.some((f) => f.id === raw.id && f.name === raw.name)
    )
      return
    const previous = typeof raw.id === 'string' ? currentById.get(raw.id) : undefined
    const field = parseField(raw, previous, at, { name: collectionName, type }, env, errors)
    if (!field) return
    const key = field.name.toLowerCase()
    if (names.has(key))
      errors[`${at}.name`] = { code: 'duplicate', message: `the name ${field.name} is used twice` }
    if (ids.has(field.id))
      errors[`${at}.id`] = { code: 'duplicate', message: `the id ${field.id} is used twice` }
    names.set(key, field.id)
    ids.add(field.id)
    result.push(field)
  })
  return result
}

function parseField(
  raw: Input,
  previous: FieldDefinition | undefined,
  at: string,
  collection: Pick<CollectionDefinition, 'name' | 'type'>,
  env: DefinitionEnvironment,
  errors: FieldErrors,
): FieldDefinition | null {
  const problem = (key: string, code: string, message: string) => {
    errors[`${at}.${key}`] = { code, message }
  }
  if (raw.id !== undefined && (typeof raw.id !== 'string' || !STABLE_ID.test(raw.id))) {
    problem('id', 'invalid_value', 'must be 3 to 40 lower-case letters, digits or _')
    return null
  }
  if (raw.id !== undefined && !previous && (raw.id as string).startsWith('sys_')) {
    problem('id', 'invalid_value', 'ids starting with sys_ are reserved')
    return null
  }
  if (!userFieldTypes.includes(raw.type as never)) {
    problem('type', 'invalid_value', `must be one of ${userFieldTypes.join(', ')}`)
    return null
  }
  const field = { ...raw, id: (raw.id as string | undefined) ?? newStableId('f') } as FieldDefinition
  if (!isValidName(field.name) || isReservedFieldName(field.name)) {
    problem(
      'name',
      'invalid_name',
      'must start with a letter, hold only letters, digits and _, and not be a reserved name',
    )
    return null
  }
  const kind = fieldKind(field.type)
  for (const key of Object.keys(raw)) {
    if (!commonFieldKeys.has(key) && !kind.options.includes(key))
      problem(key, 'unknown_field', `is not an option of ${field.type} fields`)
  }
  for (const key of ['required', 'hidden'] as const)
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean')
      problem(key, 'invalid_type', 'must be true or false')
  if (raw.system === true) problem('system', 'read_only', 'only built-in fields are system fields')
  delete (field as Partial<FieldDefinition>).system
  // A view's fields describe its query's columns: they hold no data, so their type may change.
  if (previous && collection.type !== 'view') {
    if (previous.type !== field.type)
      problem('type', 'read_only', 'the type of a field cannot change; add a new field instead')
    if (field.type === 'relation' && previous.collection !== field.collection)
      problem('collection', 'read_only', 'the target of a relation cannot change; add a new field instead')
    if (
      (previous.maxSelect ?? 1) > 1 !== (field.maxSelect ?? 1) > 1 &&
      (field.type === 'relation' || field.type === 'select' || field.type === 'file')
    )
      problem(
        'maxSelect',
        'read_only',
        'a field cannot switch between one value and many; add a new field instead',
      )
  }
  if (field.type === 'relation' && field.onDelete === undefined && collection.type !== 'view')
    field.onDelete = 'set-null'
  const context = { collection, collectionExists: env.collectionExists }
  for (const [key, message] of Object.entries(kind.checkDefinition(field, context)))
    problem(key, 'invalid_value', message)
  return field
}

function parseIndexes(
  input: unknown,
  current: IndexDefinition[],
  fields: FieldDefinition[],
  errors: FieldErrors,
): IndexDefinition[] {
  if (!Array.isArray(input) || input.length > MAX_INDEXES) {
    errors.indexes = { code: 'invalid_type', message: `must be a list of at most ${MAX_INDEXES} indexes` }
    return current
  }
  const columns = new Map(fields.filter(hasColumn).map((f) => [f.name, f]))
  const result: IndexDefinition[] = []
  const seen = new Set<string>()
  input.forEach((raw, index) => {
    const at = `indexes.${index}`
    if (!isObject(raw)) {
      errors[at] = { code: 'invalid_type', message: 'must be an object' }
      return
    }
    for (const key of Object.keys(raw))
      if (!['id', 'name', 'fields', 'unique'].includes(key))
        errors[`${at}.${key}`] = { code: 'unknown_field', message: 'is not an index option' }
    if (raw.id !== undefined && (typeof raw.id !== 'string' || !STABLE_ID.test(raw.id))) {
      errors[`${at}.id`] = {
        code: 'invalid_value',
        message: 'must be 3 to 40 lower-case letters, digits or _',
      }
      return
    }
    const list = raw.fields
    if (!Array.isArray(list) || list.length === 0 || list.length > 8 || new Set(list).size !== list.length) {
      errors[`${at}.fields`] = { code: 'invalid_value', message: 'must list 1 to 8 distinct fields' }
      return
    }
    const unknown = list.find((name) => typeof name !== 'string' || !columns.has(name))
    if (unknown !== undefined) {
      errors[`${at}.fields`] = {
        code: 'invalid_value',
        message: `${String(unknown)} is not a field that can be indexed`,
      }
      return
    }
    if (raw.unique !== undefined && typeof raw.unique !== 'boolean')
      errors[`${at}.unique`] = { code: 'invalid_type', message: 'must be true or false' }
    const id = (raw.id as string | undefined) ?? newStableId('i')
    const signature = `${raw.unique ? 'u' : ''}:${list.join(',')}`
    if (seen.has(signature))
      errors[`${at}.fields`] = { code: 'duplicate', message: 'the same index is listed twice' }
    seen.add(signature)
    result.push({ id, fields: list as string[], ...(raw.unique === true ? { unique: true } : {}) })
  })
  return result
}

/** The current indexes in terms of the new field names; indexes on removed fields go with them. */
function followRenames(
  indexes: IndexDefinition[],
  before: FieldDefinition[],
  after: FieldDefinition[],
): IndexDefinition[] {
  const idByOldName = new Map(before.map((f) => [f.name, f.id]))
  const newNameById = new Map(after.map((f) => [f.id, f.name]))
  return indexes
    .filter((index) => !index.id.startsWith('sys_'))
    .map((index) => ({
      ...index,
      fields: index.fields.map((name) => newNameById.get(idByOldName.get(name) ?? '') ?? ''),
    }))
    .filter((index) => index.fields.every(Boolean))
}

/** Auth collections always keep a unique index on the email. */
function withAuthIndexes(indexes: IndexDefinition[]): IndexDefinition[] {
  const rest = indexes.filter((index) => index.id !== 'sys_email_unique')
  return [{ id: 'sys_email_unique', fields: ['email'], unique: true }, ...rest]
}
