import type { CollectionDefinition } from '../collections/types.js'
import type { Dialect } from '../db/index.js'

/** Everything a filter or sort needs besides its text; the records service builds one per request. */
export interface FilterContext {
  dialect: Dialect
  /** The collection whose records are filtered. */
  collection: CollectionDefinition
  /** The alias of the collection's table in the outer query. */
  alias: string
  /** Looks up relation targets by collection name. */
  collections: (name: string) => CollectionDefinition | undefined
  /**
   * True for trusted filters: rules (written by superusers) and superusers' own filters and
   * sorts. False for an ordinary caller's `filter` and `sort`, which then may not name hidden
   * fields nor use `@collection`, reach related records only through their view rules, and
   * see an auth record's email only where the API would show it (see relation-access.ts).
   * Nobody may use password fields.
   */
  canSeeHidden: boolean
  /**
   * For an API key: whether its scopes let it view a collection. Paths then reach related
   * records, and `@collection` other collections, only where it may; absent, only the rules
   * and `canSeeHidden` decide. Rules and the view rules that guard paths never get one.
   */
  reachable?: (collection: CollectionDefinition) => boolean
  now: Date
  request: RequestInfo
}

export interface RequestInfo {
  auth: { collection: CollectionDefinition; record: Record<string, unknown> } | null
  body: Record<string, unknown>
  query: Record<string, unknown>
  /** The stored record, for `:changed`. */
  existing?: Record<string, unknown>
}

/** The part of a FilterContext that does not touch SQL: all that type checking and evaluation need. */
export type ResolveContext = Omit<FilterContext, 'dialect' | 'alias'>

/**
 * What evaluating a filter in memory needs: a FilterContext (without the SQL parts) and,
 * for relation paths, a way to read related records as the API shows them.
 */
export interface EvaluationContext extends ResolveContext {
  lookup?: (collection: string, id: string) => Record<string, unknown> | undefined
  /** Every record of a collection, hidden fields included, for `@collection` lookups. */
  records?: (collection: string) => Record<string, unknown>[]
}
