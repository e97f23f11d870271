/**
 * The filter and sort language: text → syntax tree → SQL (or an in-memory answer).
 * See filter-parser.ts and sort.ts for the grammars, filter-values.ts for what a comparison means.
 */

/**
 * The back-relation a name such as `comments_via_post` stands for: the records of
 * `comments` whose relation `post` points to a record of the collection asked about.
 *
 * @example
 * const back = findBackRelation('comments_via_post', posts, (name) => registry.get(name), false)
 */
export { type BackRelation, findBackRelation } from './back-relations.js'

/**
 * The syntax tree of a filter.
 *
 * @example
 * const tree: FilterNode = parseFilter('published = true')
 */
export type { FilterNode } from './filter-ast.js'

/**
 * Compiles a filter (text or tree) to a condition with bound parameters, for
 * `.where()` on `selectFrom(`${ctx.collection.name} as ${ctx.alias}`)`.
 *
 * @example
 * const condition = compileFilter('author.name = "Ada" && tags ?= "news"', ctx)
 * const rows = await db.selectFrom('posts as r').selectAll('r').where(condition).execute()
 */
export { compileFilter } from './filter-compiler.js'

/**
 * What compileFilter and compileSort need besides the text.
 *
 * @example
 * const ctx: FilterContext = { dialect, collection, alias: 'r', collections: (name) => registry.get(name),
 *   canSeeHidden: false, now: new Date(), request: { auth: null, body: {}, query: {} } }
 */
export type { EvaluationContext, FilterContext } from './filter-context.js'

/**
 * Whether one record, as the API shows it, matches a filter; the same meaning as
 * compileFilter, for checks without a query (realtime, tests).
 *
 * @example
 * evaluateFilter('views > 10', { id: 'p1', views: 12 }, ctx) // true
 */
export { evaluateFilter } from './filter-evaluator.js'

/**
 * Parses a filter into its syntax tree, throwing a FilterError with the position of the
 * first problem. Field names are checked later, by compileFilter or evaluateFilter.
 *
 * @example
 * const tree = parseFilter('title ~ "abc" && (views > 10 || status = "x")')
 */
export { parseFilter } from './filter-parser.js'

/**
 * Reads the `search` list parameter: words, "phrases", prefix* and -excluded terms, each
 * kept as text for a dialect to quote or bind. Throws a 400 naming `search`.
 *
 * @example
 * const terms = parseSearch('"full text" search* -draft')
 * const match = dialect.fullText.match(index, 'r', fullTextQuery(terms, index.fuzzy))
 */
export { fullTextQuery, MAX_SEARCH_LENGTH, parseSearch } from './search.js'

/**
 * Compiles a sort such as `-created,title` to ORDER BY items, always ending with `id`.
 *
 * @example
 * for (const item of compileSort('-created,author.name', ctx)) query = query.orderBy(item.expression, item.direction)
 */
export { compileSort, type SortItem } from './sort.js'
