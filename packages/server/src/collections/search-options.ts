import { type FullTextIndex, type SearchLanguage, searchLanguages } from '../db/index.js'
import type { FieldErrors } from '../errors/index.js'
import type { CollectionDefinition, FieldDefinition } from './types.js'

/**
 * A collection's full-text search: `search=` on its lists looks in these fields. Fields
 * listed first weigh more in the ranking.
 */
export interface SearchOptions {
  fields: string[]
  /** Stemming and stop words; `simple` (the default) only folds case and diacritics. */
  language: SearchLanguage
  /** Also match words with a typo, through trigrams. */
  fuzzy: boolean
}

export const MAX_SEARCH_FIELDS = 10
const searchKeys = ['fields', 'language', 'fuzzy']
const textTypes = new Set(['text', 'editor', 'email', 'url', 'select'])

type Shape = Pick<CollectionDefinition, 'type' | 'fields'>

/**
 * Checks `search` of a definition, reporting each problem under `search.<path>`, and
 * returns it complete (undefined when search is off). `previous` are the fields before
 * the change, so a field the change drops is named as such.
 */
export function parseSearchOptions(
  value: unknown,
  collection: Shape,
  errors: FieldErrors,
  previous: readonly FieldDefinition[] = [],
): SearchOptions | undefined {
  if (value === undefined || value === null) return undefined
  const problem = (path: string, code: string, message: string) => {
    errors[path ? `search.${path}` : 'search'] ??= { code, message }
  }
  if (collection.type === 'view') {
    problem('', 'invalid_value', 'views cannot be searched; search the collections they read')
    return undefined
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    problem('', 'invalid_type', 'must be null or an object with fields, language and fuzzy')
    return undefined
  }
  const input = value as Record<string, unknown>
  for (const key of Object.keys(input))
    if (!searchKeys.includes(key)) problem(key, 'unknown_field', 'is not a search option')
  const language = input.language ?? 'simple'
  if (typeof language !== 'string' || !(searchLanguages as readonly string[]).includes(language))
    problem('language', 'invalid_value', `must be one of ${searchLanguages.join(', ')}`)
  const fuzzy = input.fuzzy ?? false
  if (typeof fuzzy !== 'boolean') problem('fuzzy', 'invalid_type', 'must be true or false')
  const fields = input.fields
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_SEARCH_FIELDS) {
    problem('fields', 'invalid_type', `must list 1 to ${MAX_SEARCH_FIELDS} field names`)
    return undefined
  }
  fields.forEach((name, index) => {
    const why = whyNotSearchable(name, collection, previous)
    if (why) problem(`fields.${index}`, why.code, why.message)
    else if (fields.indexOf(name) !== index)
      problem(`fields.${index}`, 'duplicate', `${name} is listed twice`)
  })
  return { fields: fields as string[], language: language as SearchLanguage, fuzzy: fuzzy as boolean }
}

function whyNotSearchable(
  name: unknown,
  collection: Shape,
  previous: readonly FieldDefinition[],
): { code: string; message: string } | null {
  const shown = typeof name === 'string' ? name : 'this'
  const field = collection.fields.find((f) => f.name === name)
  if (!field) {
    if (previous.some((f) => f.name === name))
      return {
        code: 'in_use',
        message: `${shown} is searched; take it out of search.fields in the same change to remove it`,
      }
    return { code: 'invalid_value', message: `${shown} is not a field of the collection` }
  }
  if (field.system || !textTypes.has(field.type) || (field.maxSelect ?? 1) > 1)
    return {
      code: 'invalid_value',
      message: `${shown} is not a text, editor, email, url or single select field of the collection`,
    }
  // A match, even without a snippet, would tell what the field holds.
  if (field.hidden) return { code: 'invalid_value', message: `${shown} is hidden, so it cannot be searched` }
  // FTS5 keeps `rank` for itself, and the index's columns are named after the fields.
  if (field.name.toLowerCase() === 'rank')
    return { code: 'invalid_value', message: 'a field named rank cannot be searched; rename it first' }
  return null
}

/**
 * The search options in terms of new field names, as a PATCH that renames a field without
 * sending `search` means them. Names of dropped fields stay, so the check names them.
 */
export function followSearchRenames(
  search: SearchOptions | undefined,
  before: readonly FieldDefinition[],
  after: readonly FieldDefinition[],
): SearchOptions | undefined {
  if (!search) return search
  const idByOldName = new Map(before.map((f) => [f.name, f.id]))
  const newNameById = new Map(after.map((f) => [f.id, f.name]))
  return {
    ...search,
    fields: search.fields.map((name) => newNameById.get(idByOldName.get(name) ?? '') ?? name),
  }
}

/** The index that serves a collection's searches, or null when it has none. */
export function fullTextIndexOf(collection: CollectionDefinition): FullTextIndex | null {
  if (!collection.search) return null
  return {
    key: collection.id,
    table: collection.name,
    columns: [...collection.search.fields],
    language: collection.search.language,
    fuzzy: collection.search.fuzzy,
  }
}
