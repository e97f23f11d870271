import { type RawBuilder, type SqlBool, sql } from 'kysely'
import type { CollectionDefinition } from '../collections/types.js'
import type { EvaluationContext, FilterContext, ResolveContext } from './filter-context.js'
import type { FieldPath } from './operand-resolver.js'
import type { AliasGenerator, PathGuard } from './path-sql.js'

/**
 * An ordinary caller's filter or sort must not learn what the API would not show it. So a
 * path reaches a related record only when that record's view rule lets the caller view it
 * (as expand does), and an auth record's email only when the record shows it (its
 * `emailVisibility`, or it is the caller's own). Rules and superusers are trusted
 * (`canSeeHidden`) and reach everything, except that an API key's filter or sort, a
 * superuser's included, reaches only collections its scopes let it view (`reachable`): a
 * relation out of scope is an invalid filter, like one into records only superusers may view.
 */
export function isGuarded(ctx: ResolveContext): boolean {
  return !ctx.canSeeHidden
}

/** The context a related collection's view rule is compiled in: trusted, for this caller. */
export function viewRuleContext<T extends ResolveContext>(ctx: T, target: CollectionDefinition): T {
  return {
    ...ctx,
    collection: target,
    canSeeHidden: true,
    reachable: undefined,
    request: { auth: ctx.request.auth, body: {}, query: {} },
  }
}

export type RuleCompiler = (
  rule: string,
  ctx: FilterContext,
  aliases: AliasGenerator,
) => RawBuilder<SqlBool> | boolean

/** The SQL side of the guard, or undefined for trusted filters. */
export function pathGuard(
  ctx: FilterContext,
  aliases: AliasGenerator,
  compileRule: RuleCompiler,
): PathGuard | undefined {
  if (!isGuarded(ctx)) return undefined
  return {
    row(target, alias) {
      // resolvePath refuses paths into collections whose view rule is null.
      const rule = target.viewRule ?? ''
      if (rule.trim() === '') return undefined
      const condition = compileRule(rule, { ...viewRuleContext(ctx, target), alias }, aliases)
      if (typeof condition === 'boolean') return condition ? undefined : sql<SqlBool>`false`
      return condition
    },
    value(path, alias) {
      const column = sql.id(alias, path.field.name)
      if (!isAuthEmail(path)) return column
      const conditions = [sql<SqlBool>`${sql.id(alias, 'emailVisibility')} = ${true}`]
      const auth = ctx.request.auth
      if (auth && auth.collection.id === path.collection.id) {
        conditions.push(sql<SqlBool>`${sql.id(alias, 'id')} = ${String(auth.record.id)}`)
      }
      return sql`(case when (${sql.join(conditions, sql` or `)}) then ${column} end)`
    },
  }
}

/** The in-memory side: whether a related record may be reached, and a field's visible value. */
export interface RecordGuard {
  reaches(target: CollectionDefinition, record: Record<string, unknown>): boolean
  value(path: FieldPath, record: Record<string, unknown>): unknown
}

export function recordGuard(
  ctx: EvaluationContext,
  evaluateRule: (rule: string, record: Record<string, unknown>, ctx: EvaluationContext) => boolean,
): RecordGuard | undefined {
  if (!isGuarded(ctx)) return undefined
  return {
    reaches(target, record) {
      const rule = target.viewRule ?? ''
      return rule.trim() === '' || evaluateRule(rule, record, viewRuleContext(ctx, target))
    },
    value(path, record) {
      const value = record[path.field.name]
      if (!isAuthEmail(path) || record.emailVisibility === true) return value
      const auth = ctx.request.auth
      const isOwn = auth?.collection.id === path.collection.id && auth.record.id === record.id
      return isOwn ? value : null
    },
  }
}

function isAuthEmail(path: FieldPath): boolean {
  return path.collection.type === 'auth' && path.field.name === 'email' && path.field.system === true
}
