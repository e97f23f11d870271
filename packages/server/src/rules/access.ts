import type { RawBuilder, SqlBool } from 'kysely'
import type { CollectionDefinition, RuleName } from '../collections/index.js'
import { ForbiddenError, UnauthorizedError } from '../errors/index.js'
import type { Caller, RecordOperation } from '../identity/index.js'
import { compileFilter, type EvaluationContext, evaluateFilter, type FilterContext } from '../query/index.js'
import { assertKeyScope, isInKeyScope } from './key-scope.js'

export interface RuleRequest {
  body?: Record<string, unknown>
  query?: Record<string, unknown>
  existing?: Record<string, unknown>
}

/**
 * What a rule lets the caller do: everything (superusers, the empty rule), nothing
 * (a null rule), or only the rows matching the rule's filter, added to the query.
 */
export type Access = { kind: 'all' } | { kind: 'where'; condition: RawBuilder<SqlBool> }

/** The rule that decides each operation. */
const ruleOf: Readonly<Record<RecordOperation, RuleName>> = Object.freeze({
  list: 'listRule',
  view: 'viewRule',
  create: 'createRule',
  update: 'updateRule',
  delete: 'deleteRule',
})

/**
 * What may be known before any record is read: the API key's scopes cover the operation,
 * and the rule is not null (superusers only). Fails fast, before any validation.
 */
export function assertMayTry(
  caller: Caller,
  collection: CollectionDefinition,
  operation: RecordOperation,
): void {
  assertKeyScope(caller, collection, operation)
  if (caller.isSuperuser || collection[ruleOf[operation]] !== null) return
  if (!caller.auth) throw new UnauthorizedError('Only superusers may do this; sign in as one.')
  throw new ForbiddenError('Only superusers may do this.')
}

/**
 * The one access decision for a query: `assertMayTry`, then the rule as a condition for the
 * WHERE clause. Lists, views, expand and every write ask it.
 *
 * @example
 * const access = authorize(caller, posts, 'view', context)
 * if (access.kind === 'where') query = query.where(access.condition)
 */
export function authorize(
  caller: Caller,
  collection: CollectionDefinition,
  operation: RecordOperation,
  context: Omit<FilterContext, 'collection' | 'canSeeHidden' | 'request' | 'now'>,
  request: RuleRequest = {},
): Access {
  assertMayTry(caller, collection, operation)
  const expression = ruleText(caller, collection, operation)
  if (expression === null) return { kind: 'all' }
  return {
    kind: 'where',
    condition: compileFilter(expression, ruleContext(caller, collection, request, context)),
  }
}

/**
 * The same decision for one record in memory, where there is no query to add it to
 * (realtime events, GraphQL resolvers): the record as the API shows it to a superuser.
 * Relation paths in the rule read related records through `context.lookup`.
 *
 * @example
 * if (allows(caller, posts, 'view', record, { collections: (name) => registry.get(name) })) send(record)
 */
export function allows(
  caller: Caller,
  collection: CollectionDefinition,
  operation: RecordOperation,
  record: Record<string, unknown>,
  context: Pick<EvaluationContext, 'collections' | 'lookup' | 'records'>,
  request: RuleRequest = {},
): boolean {
  if (!isInKeyScope(caller, collection, operation)) return false
  if (!caller.isSuperuser && collection[ruleOf[operation]] === null) return false
  const expression = ruleText(caller, collection, operation)
  if (expression === null) return true
  return evaluateFilter(expression, record, ruleContext(caller, collection, request, context))
}

/** The rule's filter, or null when it lets the caller do everything. */
function ruleText(
  caller: Caller,
  collection: CollectionDefinition,
  operation: RecordOperation,
): string | null {
  if (caller.isSuperuser) return null
  const expression = collection[ruleOf[operation]] as string
  return expression.trim() === '' ? null : expression
}

/** Rules are written by superusers: trusted, with the caller's identity and the request's values. */
/**
 * `lookups` come last: they name none of the rule's own keys, and V8 (Node 20) adds a
 * property after a spread slowly, about half a µs each, on every request with a rule.
 */
function ruleContext<T extends object>(
  caller: Caller,
  collection: CollectionDefinition,
  request: RuleRequest,
  lookups: T,
) {
  return {
    collection,
    canSeeHidden: true,
    now: new Date(),
    request: {
      auth: caller.auth,
      body: request.body ?? {},
      query: request.query ?? {},
      existing: request.existing,
    },
    ...lookups,
  }
}
