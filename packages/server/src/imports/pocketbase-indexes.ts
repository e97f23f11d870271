import type { FieldDefinition } from '../collections/index.js'

/** An index Plinth can make (by field names), or why not; null for one Plinth keeps by itself. */
export type IndexTranslation =
  | { name: string; fields: string[]; unique: boolean }
  | { name: string; problem: string }
  | null

const CREATE =
  /^\s*create\s+(unique\s+)?index\s+(?:if\s+not\s+exists\s+)?(`[^`]+`|"[^"]+"|\[[^\]]+\]|\w+)\s+on\s+(?:`[^`]+`|"[^"]+"|\[[^\]]+\]|\w+)\s*\((.*)\)\s*(?:where\s+(.+?))?\s*;?\s*$/is
const COLUMN = /^\s*(`[^`]+`|"[^"]+"|\[[^\]]+\]|\w+)(?:\s+(?:asc|desc))?\s*$/i
const NOT_EMPTY = /^\s*(`[^`]+`|"[^"]+"|\[[^\]]+\]|\w+)\s*(?:!=|<>)\s*''\s*$/
// Plinth's unique index over one of these leaves out empty values by itself, as `WHERE x != ''` did.
const textLike = new Set(['text', 'email', 'url', 'editor', 'select'])
// Plinth keeps its own unique indexes on these.
const ownColumns = new Set(['email', 'tokenKey'])

const unquote = (name: string) => name.replace(/^[`"[]|[`"\]]$/g, '')

/**
 * Reads a PocketBase index (the CREATE INDEX statement it stores) as Plinth index fields.
 * Plain columns, ascending or descending, translate; expressions, collations and partial
 * indexes do not, except the `WHERE x != ''` Plinth's unique text indexes imply.
 *
 * @example translateIndex('CREATE UNIQUE INDEX `idx_slug` ON `posts` (`slug`)', fieldOf)
 * // { name: 'idx_slug', fields: ['slug'], unique: true }
 */
export function translateIndex(
  statement: string,
  fieldOf: (pocketBaseName: string) => FieldDefinition | undefined,
  isAuth: boolean,
): IndexTranslation {
  const match = CREATE.exec(statement)
  if (!match)
    return { name: statement.slice(0, 60), problem: 'it is not a CREATE INDEX statement Plinth reads' }
  const [, unique, rawName = '', columns = '', where] = match
  const name = unquote(rawName)
  const names = columns.split(',').map((column) => COLUMN.exec(column)?.[1])
  if (names.some((column) => column === undefined))
    return { name, problem: 'it indexes an expression or a collation; Plinth indexes plain fields' }
  const sources = names.map((column) => unquote(column!))
  if (isAuth && sources.every((column) => ownColumns.has(column))) return null
  const fields = sources.map((column) => fieldOf(column))
  const missing = sources.find((_, index) => fields[index] === undefined)
  if (missing !== undefined)
    return { name, problem: `it covers ${missing}, which is not an imported field with a column` }
  if (where !== undefined) {
    const column = NOT_EMPTY.exec(where)?.[1]
    const field = fields[0]!
    const isImplied =
      unique !== undefined &&
      fields.length === 1 &&
      column !== undefined &&
      unquote(column) === sources[0] &&
      textLike.has(field.type)
    if (!isImplied)
      return { name, problem: `it is partial (WHERE ${where.trim()}); Plinth's indexes cover every record` }
  }
  return { name, fields: fields.map((field) => field!.name), unique: unique !== undefined }
}
