import type { CollectionModel } from '../api/types'

/** The kinds of token of the filter language (docs/filter-language.md), one colour each. */
export type TokenKind =
  | 'string'
  | 'number'
  | 'literal'
  | 'macro'
  | 'field'
  | 'operator'
  | 'modifier'
  | 'paren'
  | 'space'
  | 'unknown'

export interface Token {
  kind: TokenKind
  text: string
  start: number
}

const operators = [
  '?!=',
  '?>=',
  '?<=',
  '?!~',
  '!=',
  '>=',
  '<=',
  '!~',
  '?=',
  '?>',
  '?<',
  '?~',
  '&&',
  '||',
  '=',
  '>',
  '<',
  '~',
  '!',
]
const literals = new Set(['true', 'false', 'null'])
const PATH = /[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*\.?/y
const MACRO = /@[A-Za-z_]*(?:\.[A-Za-z_][\w]*(?::[A-Za-z_]\w*)?)*\.?/y
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const MODIFIER = /:[A-Za-z]*/y

function stickyMatch(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at
  return pattern.exec(text)?.[0]
}

/**
 * Splits a filter into tokens for highlighting. It never fails: whatever it cannot read becomes
 * an `unknown` token, because the server, not this, decides whether a filter is valid.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let at = 0
  const push = (kind: TokenKind, length: number) => {
    tokens.push({ kind, text: text.slice(at, at + length), start: at })
    at += length
  }
  while (at < text.length) {
    const char = text[at]!
    if (/\s/.test(char)) {
      push('space', /^\s+/.exec(text.slice(at))![0].length)
    } else if (char === '"' || char === "'") {
      let end = at + 1
      while (end < text.length && text[end] !== char) end += text[end] === '\\' ? 2 : 1
      push('string', Math.min(end + 1, text.length) - at)
    } else if (char === '(' || char === ')') {
      push('paren', 1)
    } else if (char === '@') {
      push('macro', stickyMatch(MACRO, text, at)!.length)
    } else if (char === ':') {
      push('modifier', stickyMatch(MODIFIER, text, at)!.length)
    } else {
      const number = stickyMatch(NUMBER, text, at)
      const path = number ? undefined : stickyMatch(PATH, text, at)
      const operator = operators.find((op) => text.startsWith(op, at))
      if (number) push('number', number.length)
      else if (path) push(literals.has(path) ? 'literal' : 'field', path.length)
      else if (operator) push('operator', operator.length)
      else push('unknown', 1)
    }
  }
  return tokens
}

/** What the completion of a filter needs to know: the collection it filters and all the others. */
export interface FilterSchema {
  collection?: Pick<CollectionModel, 'name' | 'fields'>
  collections: Pick<CollectionModel, 'name' | 'type' | 'fields'>[]
}

export interface Completion {
  /** The part of the text that a chosen suggestion replaces. */
  from: number
  to: number
  suggestions: string[]
}

const MAX_SUGGESTIONS = 12
const macros = [
  '@now',
  '@todayStart',
  '@todayEnd',
  '@request.auth.',
  '@request.body.',
  '@request.query.',
  '@collection.',
]

type Fields = CollectionModel['fields']

/** Field names of a collection, relations also offered as the start of a path. */
function fieldNames(fields: Fields): string[] {
  return fields.flatMap((field) =>
    field.type === 'relation' ? [field.name, `${field.name}.`] : [field.name],
  )
}

/** The fields reached by following `path` (relation names) from `fields`, or none. */
function follow(fields: Fields, path: string[], schema: FilterSchema): Fields | undefined {
  let current: Fields | undefined = fields
  for (const name of path) {
    const field: Fields[number] | undefined = current?.find((f) => f.name === name)
    if (field?.type !== 'relation' || typeof field.collection !== 'string') return undefined
    current = schema.collections.find((c) => c.name === field.collection)?.fields
  }
  return current
}

/** The fields of every auth collection: whoever signs in, these are what `@request.auth` may hold. */
function authFields(schema: FilterSchema): Fields {
  const seen = new Map<string, Fields[number]>([['collectionName', { name: 'collectionName', type: 'text' }]])
  for (const collection of schema.collections)
    if (collection.type === 'auth')
      for (const field of collection.fields) if (!seen.has(field.name)) seen.set(field.name, field)
  return [...seen.values()]
}

/** The candidates for a word, given everything before its last dot. */
function candidates(word: string, schema: FilterSchema): string[] {
  const own = schema.collection?.fields ?? []
  if (!word.startsWith('@')) {
    const path = word.split('.').slice(0, -1)
    return fieldNames(follow(own, path, schema) ?? []).map((name) => [...path, name].join('.'))
  }
  const parts = word.split('.')
  const prefixed = (prefix: string, names: string[]) => names.map((name) => prefix + name)
  if (parts.length === 1) return macros
  if (parts[0] === '@request' && parts.length === 2) return macros.filter((m) => m.startsWith('@request.'))
  if (parts[0] === '@request' && (parts[1] === 'auth' || parts[1] === 'body')) {
    const base = parts[1] === 'auth' ? authFields(schema) : own
    const path = parts.slice(2, -1)
    return prefixed(
      `${parts.slice(0, 2).join('.')}.`,
      fieldNames(follow(base, path, schema) ?? []).map((n) => [...path, n].join('.')),
    )
  }
  if (parts[0] === '@collection') {
    if (parts.length === 2) return schema.collections.map((c) => `@collection.${c.name}.`)
    const target = schema.collections.find((c) => c.name === parts[1]!.split(':')[0])
    const path = parts.slice(2, -1)
    return prefixed(
      `@collection.${parts[1]}.`,
      fieldNames(follow(target?.fields ?? [], path, schema) ?? []).map((n) => [...path, n].join('.')),
    )
  }
  return []
}

/**
 * The suggestions for the word that ends at `cursor`: field names and relation paths
 * (`author.name`), `@request.auth.*` and `@collection.<name>.<field>`, and the macros.
 */
export function complete(text: string, cursor: number, schema: FilterSchema): Completion {
  const before = text.slice(0, cursor)
  const word = /[@\w.:]*$/.exec(before)![0]
  const from = cursor - word.length
  const after = /^[\w]*/.exec(text.slice(cursor))![0]
  const to = cursor + after.length
  const inString = tokenize(before).at(-1)
  if (inString?.kind === 'string' && (inString.text.length < 2 || !inString.text.endsWith(inString.text[0]!)))
    return { from, to, suggestions: [] }
  const lower = word.toLowerCase()
  const suggestions = candidates(word, schema)
    .filter((candidate) => candidate.toLowerCase().startsWith(lower) && candidate !== word)
    .slice(0, MAX_SUGGESTIONS)
  return { from, to, suggestions }
}
