import {
  type CollectionDefinition,
  canonicalDate,
  type FieldDefinition,
  type FieldType,
  fieldKind,
} from '../collections/index.js'
import type { PocketBaseField } from './pocketbase-data.js'

/** A PocketBase field as a Plinth field (without its id), with what did not carry over. */
export type FieldTranslation = { field: Omit<FieldDefinition, 'id'>; notes: string[] } | { problem: string }

export interface FieldContext {
  collection: Pick<CollectionDefinition, 'name' | 'type'>
  /** The Plinth collection a relation to this PocketBase collection id points at, or why it cannot. */
  relationTarget(collectionId: string): { name: string } | { problem: string }
}

const MAX_RELATIONS = 1000
const MAX_FILES = 99

const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)
const positive = (value: unknown) => {
  const n = number(value)
  return n !== undefined && n > 0 ? n : undefined
}
const list = (value: unknown) =>
  Array.isArray(value) && value.length > 0
    ? value.filter((item): item is string => typeof item === 'string')
    : undefined
const date = (value: unknown) =>
  typeof value === 'string' && value !== '' ? (canonicalDate(value) ?? undefined) : undefined

/** Drops undefined options, so the definition lists only what is set. */
function defined(field: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(field).filter(([, value]) => value !== undefined))
}

/** More than one value is PocketBase's multiple field; 0 and 1 both mean one. */
function manyOf(value: unknown, limit: number, notes: string[]): number | undefined {
  const n = number(value) ?? 0
  if (n <= 1) return undefined
  if (n <= limit) return n
  notes.push(`maxSelect ${n} is above Plinth's ${limit}; it is ${limit}`)
  return limit
}

function options(
  source: PocketBaseField,
  context: FieldContext,
  notes: string[],
): Record<string, unknown> | string {
  switch (source.type) {
    case 'text': {
      if (typeof source.autogeneratePattern === 'string' && source.autogeneratePattern !== '')
        notes.push('autogeneratePattern is not kept: Plinth fills no text field by itself')
      return {
        type: 'text',
        min: positive(source.min),
        max: positive(source.max),
        pattern: typeof source.pattern === 'string' && source.pattern !== '' ? source.pattern : undefined,
      }
    }
    case 'editor':
      if (positive(source.maxSize))
        notes.push('maxSize (bytes) is not kept: Plinth limits editor text by length')
      return { type: 'editor' }
    case 'number':
      return {
        type: 'number',
        min: number(source.min),
        max: number(source.max),
        onlyInt: source.onlyInt === true || undefined,
      }
    case 'bool':
      return { type: 'bool' }
    case 'email':
    case 'url':
      return {
        type: source.type,
        onlyDomains: list(source.onlyDomains),
        exceptDomains: list(source.exceptDomains),
      }
    case 'date':
      return { type: 'date', min: date(source.min), max: date(source.max) }
    case 'autodate':
      if (source.onCreate !== true && source.onUpdate !== true)
        return 'it is set neither on create nor on update'
      return { type: 'autodate', onCreate: source.onCreate === true, onUpdate: source.onUpdate === true }
    case 'select':
      return {
        type: 'select',
        values: list(source.values),
        maxSelect: manyOf(source.maxSelect, Number.MAX_SAFE_INTEGER, notes),
      }
    case 'json':
      return { type: 'json', max: positive(source.maxSize) }
    case 'geoPoint':
      notes.push('Plinth has no geoPoint type: it is a json field holding {"lon", "lat"}')
      return { type: 'json' }
    case 'relation': {
      const target = context.relationTarget(String(source.collectionId ?? ''))
      if ('problem' in target) return target.problem
      if (positive(source.minSelect)) notes.push('minSelect is not kept: Plinth has none')
      // As PocketBase does on delete: cascade, else refuse while the relation is required, else unset it.
      const onDelete =
        source.cascadeDelete === true ? 'cascade' : source.required === true ? 'restrict' : 'set-null'
      return {
        type: 'relation',
        collection: target.name,
        maxSelect: manyOf(source.maxSelect, MAX_RELATIONS, notes),
        onDelete,
      }
    }
    case 'file':
      return {
        type: 'file',
        maxSelect: manyOf(source.maxSelect, MAX_FILES, notes),
        maxSize: positive(source.maxSize),
        mimeTypes: list(source.mimeTypes),
        thumbs: list(source.thumbs),
        protected: source.protected === true || undefined,
      }
    case 'password':
      return 'Plinth keeps passwords only in the password field of auth collections'
    default:
      return `Plinth has no ${source.type} field type`
  }
}

/**
 * The Plinth field for a PocketBase one. An option Plinth refuses (a pattern in a regular
 * expression syntax JavaScript does not read, say) is left out with a note; a field that
 * cannot exist without it is refused with the reason.
 */
export function translateField(source: PocketBaseField, context: FieldContext): FieldTranslation {
  const notes: string[] = []
  const shape = options(source, context, notes)
  if (typeof shape === 'string') return { problem: shape }
  const field = defined({
    name: source.name,
    ...shape,
    required: source.required === true || undefined,
    hidden: source.hidden === true || undefined,
  }) as Omit<FieldDefinition, 'id'>
  const kind = fieldKind(field.type as FieldType)
  const problems = kind.checkDefinition(
    { ...field, id: '' },
    { collection: context.collection, collectionExists: () => true },
  )
  for (const [option, message] of Object.entries(problems)) {
    if (option === 'values' || option === 'collection') return { problem: `${option} ${message}` }
    notes.push(`${option} is not kept: Plinth says it ${message}`)
    delete (field as Record<string, unknown>)[option]
  }
  return { field, notes }
}
