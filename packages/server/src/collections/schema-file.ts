import { BadRequestError, type FieldErrors, ValidationError } from '../errors/index.js'
import { isSystemCollectionName, isValidCollectionName } from './names.js'
import { systemFieldsFor } from './system-fields.js'
import { type CollectionDefinition, type CollectionType, ruleNames } from './types.js'

export const SCHEMA_FILE_VERSION = 1

export type Json = Record<string, unknown>
/** A field or index as written in the file; definition.ts checks the details when an import is planned. */
export type FileField = Json & { id?: string; name: string; type: string; collection?: unknown }
export type FileIndex = Json & { id?: string; fields: string[]; unique?: boolean }

/** One collection of a schema file: the API's shape without timestamps and built-in fields. */
export interface SchemaCollection {
  id?: string
  name: string
  type: CollectionType
  fields: FileField[]
  indexes: FileIndex[]
  listRule: string | null
  viewRule: string | null
  createRule: string | null
  updateRule: string | null
  deleteRule: string | null
  /** View collections only. */
  viewQuery?: string
  options: Json
  /** Full-text search, checked with the rest of the definition when an import is planned. */
  search?: unknown
}

export interface SchemaFile {
  plinth: typeof SCHEMA_FILE_VERSION
  collections: SchemaCollection[]
}

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isOptionalString = (value: unknown) => value === undefined || typeof value === 'string'
export const isBuiltIn = (id: string) => id.startsWith('sys_')
const entryKeys = new Set([
  'id',
  'name',
  'type',
  'fields',
  'indexes',
  'options',
  'viewQuery',
  'search',
  ...ruleNames,
])
// A definition copied from the API carries these; they are volatile or implied, so they are ignored.
const ignoredKeys = new Set(['system', 'created', 'updated'])

/** The schema file text for these collections: system collections and built-in parts left out, keys sorted. */
export function exportSchema(definitions: readonly CollectionDefinition[]): string {
  const collections = definitions
    .filter((d) => !d.system)
    .sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name))
    .map((d) => ({
      id: d.id,
      name: d.name,
      type: d.type,
      fields: d.fields
        .filter((f) => !f.system)
        .map(({ id, name, type, ...rest }) => ({ id, name, type, ...sortKeys(rest) })),
      indexes: d.indexes
        .filter((i) => !isBuiltIn(i.id))
        .map((i) => ({ id: i.id, fields: [...i.fields], ...(i.unique ? { unique: true } : {}) })),
      ...Object.fromEntries(ruleNames.map((rule) => [rule, d[rule]])),
      ...(d.viewQuery === undefined ? {} : { viewQuery: d.viewQuery }),
      options: sortKeys(d.options),
      ...(d.search ? { search: d.search } : {}),
    }))
  return `${JSON.stringify({ plinth: SCHEMA_FILE_VERSION, collections }, null, 2)}\n`
}

/** Reads and checks the shape of a schema file; throws a 400 naming every problem. */
export function parseSchemaFile(text: string): SchemaFile {
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch (error) {
    throw new BadRequestError(`The schema file is not valid JSON: ${(error as Error).message}.`)
  }
  return readSchemaFile(root)
}

/** Checks the shape of a schema file already parsed from JSON (an API body); throws a 400 naming every problem. */
export function readSchemaFile(root: unknown): SchemaFile {
  const errors: FieldErrors = {}
  const problem = (at: string, message: string) => {
    errors[at] ??= { code: 'invalid_schema', message }
  }
  if (!isObject(root)) throw new BadRequestError('The schema file must hold a JSON object.')
  for (const key of Object.keys(root))
    if (key !== 'plinth' && key !== 'collections') problem(key, 'is not part of a schema file')
  if (root.plinth !== SCHEMA_FILE_VERSION)
    problem('plinth', `must be ${SCHEMA_FILE_VERSION}, the schema file version this Plinth reads`)
  if (!Array.isArray(root.collections)) problem('collections', 'must be a list of collections')
  const names = new Set<string>()
  const ids = new Set<string>()
  const collections = (Array.isArray(root.collections) ? root.collections : []).flatMap((raw, index) => {
    const at = `collections.${index}`
    if (!isObject(raw)) {
      problem(at, 'must be an object')
      return []
    }
    const name = raw.name
    if (raw.system === true || (typeof name === 'string' && isSystemCollectionName(name))) {
      problem(at, `${String(name)} is a system collection; those are not part of a schema file`)
      return []
    }
    if (!isValidCollectionName(name)) {
      problem(`${at}.name`, 'must be a valid collection name')
      return []
    }
    if (names.has(name.toLowerCase())) problem(`${at}.name`, `${name} is listed twice`)
    names.add(name.toLowerCase())
    if (raw.id !== undefined && typeof raw.id !== 'string') problem(`${at}.id`, 'must be a string')
    if (typeof raw.id === 'string' && ids.has(raw.id)) problem(`${at}.id`, `${raw.id} is listed twice`)
    if (typeof raw.id === 'string') ids.add(raw.id)
    for (const key of Object.keys(raw))
      if (!entryKeys.has(key) && !ignoredKeys.has(key)) problem(`${at}.${key}`, 'is not part of a collection')
    const rawType = raw.type ?? 'base'
    if (rawType !== 'base' && rawType !== 'auth' && rawType !== 'view')
      problem(`${at}.type`, 'must be "base", "auth" or "view"')
    const type: CollectionType = rawType === 'auth' || rawType === 'view' ? rawType : 'base'
    if (raw.viewQuery !== undefined && (type !== 'view' || typeof raw.viewQuery !== 'string'))
      problem(`${at}.viewQuery`, 'must be the SQL query of a view collection')
    const builtIn = new Set(systemFieldsFor(type).map((f) => f.id))
    const fields = listOf(
      raw.fields,
      `${at}.fields`,
      problem,
      'must be an object with a string name and type',
      (f) => typeof f.name === 'string' && typeof f.type === 'string' && isOptionalString(f.id),
    ).filter((f) => !(f.system === true && builtIn.has(f.id as string)))
    const indexes = listOf(
      raw.indexes,
      `${at}.indexes`,
      problem,
      'must be an object listing field names',
      (i) =>
        Array.isArray(i.fields) && i.fields.every((n) => typeof n === 'string') && isOptionalString(i.id),
    ).filter((i) => !(typeof i.id === 'string' && isBuiltIn(i.id)))
    for (const rule of ruleNames)
      if (raw[rule] !== undefined && raw[rule] !== null && typeof raw[rule] !== 'string')
        problem(`${at}.${rule}`, 'must be null or a filter expression')
    if (raw.options !== undefined && !isObject(raw.options)) problem(`${at}.options`, 'must be an object')
    const entry: SchemaCollection = {
      ...(typeof raw.id === 'string' ? { id: raw.id } : {}),
      name,
      type,
      fields: fields as FileField[],
      indexes: indexes as FileIndex[],
      ...rulesOf(raw),
      ...(typeof raw.viewQuery === 'string' ? { viewQuery: raw.viewQuery } : {}),
      options: isObject(raw.options) ? raw.options : {},
      ...(raw.search === undefined || raw.search === null ? {} : { search: raw.search }),
    }
    return [entry]
  })
  if (Object.keys(errors).length > 0) throw new ValidationError(errors, 'The schema file is invalid.')
  return { plinth: SCHEMA_FILE_VERSION, collections }
}

function listOf(
  value: unknown,
  at: string,
  problem: (at: string, message: string) => void,
  shape: string,
  isWellFormed: (item: Json) => boolean,
): Json[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    problem(at, 'must be a list')
    return []
  }
  value.forEach((item, index) => {
    if (!isObject(item) || !isWellFormed(item)) problem(`${at}.${index}`, shape)
  })
  return value.filter(isObject)
}

function rulesOf(source: Json): Pick<SchemaCollection, (typeof ruleNames)[number]> {
  return Object.fromEntries(
    ruleNames.map((rule) => [rule, typeof source[rule] === 'string' ? source[rule] : null]),
  ) as Pick<SchemaCollection, (typeof ruleNames)[number]>
}

/** JSON with sorted keys, so two definitions compare equal whatever order their keys were written in. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined'
}

function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T
  if (!isObject(value)) return value
  // Imported JSON may hold a `__proto__` key of its own; on a plain object it would set the prototype.
  const sorted: Json = Object.create(null)
  for (const key of Object.keys(value).sort())
    if (value[key] !== undefined) sorted[key] = sortKeys(value[key])
  return sorted as T
}
