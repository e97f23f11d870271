import type { FieldErrors } from '../errors/index.js'

const MAX_VIEW_QUERY_LENGTH = 10_000

/**
 * Words that start or belong to a statement other than a read. The database refuses
 * most of them inside CREATE VIEW anyway; refusing them first gives a clear answer and
 * keeps the check independent of what each database happens to allow.
 */
const forbiddenWords = new Set([
  'insert',
  'update',
  'delete',
  'drop',
  'alter',
  'create',
  'attach',
  'detach',
  'pragma',
  'vacuum',
  'reindex',
  'analyze',
  'grant',
  'revoke',
  'truncate',
  'into',
  'copy',
  'call',
  'execute',
  'do',
  'lock',
  'listen',
  'notify',
  'savepoint',
  'release',
  'rollback',
  'commit',
  'begin',
  'merge',
  'upsert',
  'returning',
])

/**
 * Functions that act beyond the query (sleep, signal, write files or sequences, change
 * settings) or run SQL given as text, which would read around the name check below:
 * PostgreSQL's server functions, large objects, the `*_to_xml` family and `ts_stat`, and
 * SQLite's extension loader.
 */
const forbiddenFunction =
  /^(pg_|lo_|dblink|txid_|set_config$|setval$|nextval$|ts_stat$|load_extension$)|_to_xml/

/**
 * Plinth's own tables (`_collections`, `_superusers`, signing keys, junction tables) and
 * the databases' catalogues: a view reads collections, never these, because a view's
 * rows can be made public by its list rule.
 */
const forbiddenName = /^(_|sqlite_|pg_|information_schema$)/

interface Token {
  text: string
  quoted: boolean
}

/**
 * The words of a query with string literals left out: keywords, identifiers (quoted
 * ones keep their case) and function names. Returns a problem when the text holds
 * something a single plain SELECT never needs.
 */
function tokenize(query: string): Token[] | string {
  const tokens: Token[] = []
  let i = 0
  while (i < query.length) {
    const char = query[i]!
    if (char === "'") {
      const end = query.indexOf("'", i + 1)
      if (end < 0) return 'has an unterminated string'
      i = end + 1
      continue
    }
    if (char === '"') {
      const end = query.indexOf('"', i + 1)
      if (end < 0) return 'has an unterminated quoted name'
      tokens.push({ text: query.slice(i + 1, end), quoted: true })
      i = end + 1
      continue
    }
    if (char === ';') return 'must be a single statement (no ;)'
    if (char === '`' || char === '[' || char === '$' || char === '\\')
      return `may not use ${char}; quote names with "`
    if ((char === '-' && query[i + 1] === '-') || (char === '/' && query[i + 1] === '*'))
      return 'may not hold comments'
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i, i + 200))
    if (word) {
      tokens.push({ text: word[0].toLowerCase(), quoted: false })
      i += word[0].length
      continue
    }
    i += 1
  }
  return tokens
}

/**
 * Whether a view query is one read-only SELECT over collections; the problem with it
 * otherwise, under `viewQuery`. The database checks the rest when the view is created.
 */
export function checkViewQuery(query: unknown, errors: FieldErrors): query is string {
  const problem = (message: string) => {
    errors.viewQuery = { code: 'invalid_view_query', message }
    return false
  }
  if (typeof query !== 'string' || query.trim() === '')
    return problem('a view needs a query: a single SELECT statement')
  if (query.length > MAX_VIEW_QUERY_LENGTH)
    return problem(`must be at most ${MAX_VIEW_QUERY_LENGTH} characters`)
  const tokens = tokenize(query)
  if (typeof tokens === 'string') return problem(tokens)
  if (tokens[0]?.text !== 'select' || tokens[0].quoted) return problem('must start with SELECT')
  for (const token of tokens) {
    const name = token.text.toLowerCase()
    if (!token.quoted && forbiddenWords.has(name))
      return problem(`may only read: ${name.toUpperCase()} is not allowed`)
    if (!token.quoted && forbiddenFunction.test(name)) return problem(`may not call ${name}`)
    if (forbiddenName.test(name)) return problem(`may not read ${token.text}: only collections can be read`)
  }
  return true
}

/**
 * The collections a view query names, as far as its words tell: every word that is a
 * collection name counts, so a column alias that happens to be one is a false alarm on
 * the safe side (that collection cannot be dropped or renamed while the view names it).
 */
export function viewSources(query: string, collectionNames: readonly string[]): string[] {
  const tokens = tokenize(query)
  if (typeof tokens === 'string') return []
  const words = new Set(tokens.map((t) => t.text.toLowerCase()))
  return collectionNames.filter((name) => words.has(name.toLowerCase()))
}
