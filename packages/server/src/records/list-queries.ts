import type { CompiledQuery } from 'kysely'
import { LRUCache } from 'lru-cache'
import type { CollectionDefinition } from '../collections/index.js'
import type { Caller } from '../identity/index.js'
import { callerKey, readsOnlyTheCaller } from './kept-statements.js'
import type { ListParams } from './list-params.js'
import { ALIAS, type RecordReader } from './reader.js'
import type { CollectionSearch } from './search.js'

/** The two statements of a list page: its rows, and how many rows match in all. */
export interface ListQueries {
  rows: CompiledQuery<Record<string, unknown>>
  count: CompiledQuery<{ count: number | string | bigint }>
}

/** The scope shared by every caller whose lists compile alike. */
const SHARED = Object.freeze({})

/**
 * Builds the SQL of list pages, and keeps it: a list the request's text alone decides
 * (a public feed asked for again and again) is compiled once for everyone; one whose
 * rule, filter or sort reads the caller is kept for that caller while its auth record
 * is cached. Texts that read the clock or the query string, and API keys' lists, are
 * compiled for each request.
 */
export class ListQueryBuilder {
  readonly #kept = new WeakMap<CollectionDefinition, WeakMap<object, LRUCache<string, ListQueries>>>()
  readonly #viewRulesKeepable = new WeakMap<CollectionDefinition, boolean>()

  constructor(private readonly reader: RecordReader) {}

  queries(
    caller: Caller,
    collection: CollectionDefinition,
    params: ListParams,
    query: Record<string, unknown>,
    search: CollectionSearch | null = null,
  ): ListQueries {
    const scope = keptScope(caller, collection, params, () => this.viewRulesReadOnlyTheCaller(collection))
    if (scope === undefined) return this.build(caller, collection, params, query, search)
    let byScope = this.#kept.get(collection)
    if (!byScope) {
      byScope = new WeakMap()
      this.#kept.set(collection, byScope)
    }
    let cache = byScope.get(scope)
    if (!cache) {
      cache = new LRUCache({
        maxSize: scope === SHARED ? 1_000_000 : 50_000,
        sizeCalculation: (_queries, text) => text.length,
      })
      byScope.set(scope, cache)
    }
    const key = [
      caller.isSuperuser ? 'superuser' : 'user',
      params.perPage,
      params.page,
      params.sort,
      params.filter,
      params.search ?? '',
    ].join('\n')
    let queries = cache.get(key)
    if (!queries) {
      queries = this.build(caller, collection, params, query, search)
      cache.set(key, queries)
    }
    return queries
  }
  /**
   * Whether every collection's view rule reads only the caller: a relation path in an
   * ordinary caller's filter or sort compiles its target's view rule in. Worked out once
   * per definition, as any schema change swaps every definition.
   */
  private viewRulesReadOnlyTheCaller(collection: CollectionDefinition): boolean {
    let answer = this.#viewRulesKeepable.get(collection)
    if (answer === undefined) {
      answer = this.reader.registry.all().every((other) => readsOnlyTheCaller(other.viewRule ?? ''))
      this.#viewRulesKeepable.set(collection, answer)
    }
    return answer
  }

  private build(
    caller: Caller,
    collection: CollectionDefinition,
    params: ListParams,
    query: Record<string, unknown>,
    search: CollectionSearch | null,
  ): ListQueries {
    const db = this.reader.dialect.db
    const access = this.reader.access(caller, collection, 'list', { query })
    const conditions = access.kind === 'where' ? [access.condition] : []
    if (params.filter.trim() !== '')
      conditions.push(this.reader.compileFilter(caller, collection, params.filter, query))
    let base = db.selectFrom(`${collection.name} as ${ALIAS}`)
    let rows = this.reader.select(db, collection)
    const match = search ? this.reader.dialect.fullText.match(search.index, ALIAS, search.query) : null
    if (match?.join) {
      const { source, alias, joinOn } = match.join
      base = base.innerJoin(source, (join) => join.onRef(`${alias}.rowid`, '=', joinOn))
      rows = rows.innerJoin(source, (join) => join.onRef(`${alias}.rowid`, '=', joinOn))
    }
    if (match?.condition) conditions.push(match.condition)
    for (const condition of conditions) {
      base = base.where(condition)
      rows = rows.where(condition)
    }
    // Relevance orders a search unless the caller asked for an order; the id still breaks ties.
    if (match && params.sort.trim() === '')
      for (const relevance of match.relevance) rows = rows.orderBy(relevance, 'desc')
    return {
      rows: this.reader
        .orderBy(rows, collection, params.sort, caller)
        .limit(params.perPage)
        .offset((params.page - 1) * params.perPage)
        .compile(),
      count: base.select((eb) => eb.fn.countAll().as('count')).compile(),
    }
  }
}

/**
 * Whose kept statements serve this list, if any. Without `@` and `.` nothing reads the
 * caller or another collection's rule, except that an auth collection shows each
 * record's email to itself: then every caller of the same kind compiles alike. Otherwise,
 * if the texts read only the caller, the caller's own statements serve; for an ordinary
 * caller whose filter or sort follows a relation, so must the view rules it compiles in.
 */
function keptScope(
  caller: Caller,
  collection: CollectionDefinition,
  params: ListParams,
  viewRulesReadOnlyTheCaller: () => boolean,
): object | undefined {
  if (caller.apiKey) return undefined
  const rule = caller.isSuperuser ? '' : collection.listRule
  if (rule === null) return undefined
  const texts = [rule, params.filter, params.sort]
  if (!texts.every(readsOnlyTheCaller)) return undefined
  const followsRelations = params.filter.includes('.') || params.sort.includes('.')
  if (followsRelations && !caller.isSuperuser && !viewRulesReadOnlyTheCaller()) return undefined
  const isShared =
    !texts.some((text) => text.includes('@') || text.includes('.')) &&
    (collection.type !== 'auth' || caller.isSuperuser)
  return isShared ? SHARED : callerKey(caller)
}
