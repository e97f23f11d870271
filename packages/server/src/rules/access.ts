import type { RawBuilder, SqlBool } from 'kysely'
import type { CollectionDefinition, RuleName } from '../collections/index.js'
import { ForbiddenError, UnauthorizedError } from '../errors/index.js'
import type { Caller } from '../identity/index.js'
import { compileFilter, type FilterContext } from '../query/index.js'

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

/** Fails fast, before any validation, when the rule is null and the caller no superuser. */
export function assertRuleOpen(caller: Caller, collection: CollectionDefinition, rule: RuleName): void {
  if (caller.isSuperuser || collection[rule] !== null) return
  if (!caller.auth) throw new UnauthorizedError('Only superusers may do this; sign in as one.')
  throw new ForbiddenError('Only superusers may do this.')
}

export function checkAccess(
  caller: Caller,
  collection: CollectionDefinition,
  rule: RuleName,
  context: Omit<FilterContext, 'collection' | 'canSeeHidden' | 'request' | 'now'>,
  request: RuleRequest = {},
): Access {
  if (caller.isSuperuser) return { kind: 'all' }
  assertRuleOpen(caller, collection, rule)
  const expression = collection[rule] as string
  if (expression.trim() === '') return { kind: 'all' }
  const condition = compileFilter(expression, {
    ...context,
    collection,
    canSeeHidden: true,
    now: new Date(),
    request: {
      auth: caller.auth,
      body: request.body ?? {},
      query: request.query ?? {},
      existing: request.existing,
    },
  })
  return { kind: 'where', condition }
}
