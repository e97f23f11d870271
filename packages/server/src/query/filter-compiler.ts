import { type RawBuilder, type SqlBool, sql } from 'kysely'
import { LRUCache } from 'lru-cache'
import { type ComparisonPlan, lowerValue, type PlanSide, planComparison } from './comparison-plan.js'
import type { ComparisonOperator, FilterNode } from './filter-ast.js'
import type { FilterContext } from './filter-context.js'
import { checkFilterTree, parseFilter } from './filter-parser.js'
import { compareScalars, containsPattern, INCOMPARABLE, isNegative, type Value } from './filter-values.js'
import {
  AliasGenerator,
  countSql,
  type PathGuard,
  pathSql,
  type SqlScalar,
  type SqlSet,
  whereClause,
} from './path-sql.js'
import { pathGuard, type RuleCompiler } from './relation-access.js'
import { bindRow, type ConjunctionPart, conjunctionParts, sharedRoot } from './shared-rows.js'

/** A condition known at compile time, or SQL that is TRUE or FALSE on every row, never NULL. */
type Condition = boolean | RawBuilder<SqlBool>

type ConstantTerm = { kind: 'constant'; value: Value; lower: boolean }
type Term = SqlScalar | ConstantTerm
type ListTerm = { kind: 'list'; values: Value[]; lower: boolean }
type SetTerm = SqlSet & { lower: boolean }

type OrderOperator = '=' | '>' | '>=' | '<' | '<='

const sqlOperators: Record<OrderOperator, RawBuilder<unknown>> = {
  '=': sql`=`,
  '>': sql`>`,
  '>=': sql`>=`,
  '<': sql`<`,
  '<=': sql`<=`,
}

const flipped: Record<OrderOperator, OrderOperator> = { '=': '=', '>': '<', '>=': '<=', '<': '>', '<=': '>=' }

/**
 * Compiles a filter to a condition for `.where()` on `selectFrom(`${name} as ${alias}`)`.
 * Every value is a bound parameter; identifiers come only from the collection definitions.
 */
// Rules and the filters clients repeat are parsed once; the compiler never changes a tree.
// Bounded by the length of the texts, so long filters cannot crowd memory.
const parsed = new LRUCache<string, FilterNode>({
  maxSize: 500_000,
  sizeCalculation: (_node, input) => Math.max(1, input.length),
})

function parseCached(input: string): FilterNode {
  let node = parsed.get(input)
  if (!node) {
    node = parseFilter(input)
    parsed.set(input, node)
  }
  return node
}

export function compileFilter(input: string | FilterNode, ctx: FilterContext): RawBuilder<SqlBool> {
  const node = typeof input === 'string' ? parseCached(input) : checkFilterTree(input)
  const condition = new FilterCompiler(ctx).node(node)
  if (typeof condition === 'boolean') return condition ? sql<SqlBool>`true` : sql<SqlBool>`false`
  return condition
}

/** Compiles a related collection's view rule inside a caller's filter, sharing its table aliases. */
const compileRule: RuleCompiler = (rule, ctx, aliases) =>
  new FilterCompiler(ctx, aliases.within(ctx.alias)).node(parseCached(rule))

/** Where a caller's filter and sort get their guard from, so sort.ts guards paths alike. */
export function guardFor(ctx: FilterContext, aliases: AliasGenerator): PathGuard | undefined {
  return pathGuard(ctx, aliases, compileRule)
}

class FilterCompiler {
  readonly #aliases: AliasGenerator
  readonly #guard: PathGuard | undefined

  constructor(
    readonly ctx: FilterContext,
    aliases = new AliasGenerator(ctx.alias),
  ) {
    this.#aliases = aliases
    this.#guard = guardFor(ctx, aliases)
  }

  node(node: FilterNode): Condition {
    switch (node.kind) {
      case 'and':
        return all(conjunctionParts(node.operands).map((part) => this.#part(part)))
      case 'or':
        return any(node.operands.map((operand) => this.node(operand)))
      case 'not':
        return negate(this.node(node.operand))
      case 'comparison': {
        const plan = planComparison(node, this.ctx)
        return typeof plan === 'boolean' ? plan : this.#comparison(plan)
      }
    }
  }

  #part(part: ConjunctionPart): Condition {
    if (part.kind === 'node') return this.node(part.node)
    const plans = part.comparisons.map((comparison) => planComparison(comparison, this.ctx) as ComparisonPlan)
    const root = sharedRoot(plans[0]!)
    const alias = this.#aliases.next('t')
    const inner = all(plans.map((plan) => this.#comparison(bindRow(plan, alias))))
    if (inner === false) return false
    const where = inner === true ? sql`` : sql` where ${inner}`
    return sql<SqlBool>`exists (select 1 from ${sql.table(root.collection.name)} as ${sql.id(alias)}${where})`
  }

  /** Pairs of elements, as compareOperands defines them. */
  #comparison(plan: ComparisonPlan): Condition {
    const { operator } = plan
    const left = this.#side(plan.left)
    const right = this.#side(plan.right)
    const isAll = plan.quantifier !== 'any'
    const compare = (a: Term, b: Term) => this.#scalar(operator, a, b)

    if (plan.quantifier === 'empty') {
      // A list here would be constant on both sides, and planComparison folds those.
      const set = (left.kind === 'set' ? left : right) as SetTerm
      return operator === '=' ? negate(this.#exists(set, [])) : this.#exists(set, [])
    }
    if (left.kind === 'set' || right.kind === 'set') {
      const set = (left.kind === 'set' ? left : right) as SetTerm
      const other = left.kind === 'set' ? right : left
      const against = (term: Term) => (element: Term) =>
        left.kind === 'set' ? compare(element, term) : compare(term, element)
      const quantified = (term: Term) =>
        isAll ? this.#every(set, against(term)) : this.#some(set, against(term))
      // planComparison rejects two multi-valued fields, so the other side is a term or a list.
      if (other.kind !== 'list') return quantified(other as Term)
      const terms = listTerms(other)
      if (!isAll) return any(terms.map(quantified))
      return terms.length === 0 ? false : all(terms.map(quantified))
    }
    if (left.kind === 'list' || right.kind === 'list') {
      const list = (left.kind === 'list' ? left : right) as ListTerm
      const other = (left.kind === 'list' ? right : left) as Term
      const conditions = listTerms(list).map((term) =>
        left.kind === 'list' ? compare(term, other) : compare(other, term),
      )
      if (!isAll) return any(conditions)
      return conditions.length === 0 ? false : all(conditions)
    }
    return compare(left as Term, right as Term)
  }

  #side(side: PlanSide): Term | ListTerm | SetTerm {
    const { dialect } = this.ctx
    switch (side.kind) {
      case 'value':
        return { kind: 'constant', value: side.value, lower: side.lower }
      case 'list':
        return side
      case 'count':
        return countSql(side.path, dialect, this.#aliases, this.#guard)
      case 'path': {
        const compiled = pathSql(side.path, dialect, this.#aliases, this.#guard)
        if (compiled.kind === 'set') return { ...compiled, lower: side.lower }
        return side.lower ? { ...compiled, expr: sql`lower(${compiled.expr})` } : compiled
      }
    }
  }

  #some(set: SetTerm, predicate: (element: Term) => Condition): Condition {
    const condition = predicate(elementTerm(set))
    if (condition === false) return false
    return this.#exists(set, condition === true ? [] : [condition])
  }

  #every(set: SetTerm, predicate: (element: Term) => Condition): Condition {
    const condition = predicate(elementTerm(set))
    if (condition === false) return false
    const nonEmpty = this.#exists(set, [])
    if (condition === true) return nonEmpty
    return all([nonEmpty, negate(this.#exists(set, [negate(condition) as RawBuilder<SqlBool>]))])
  }

  #exists(set: SqlSet, conditions: RawBuilder<SqlBool>[]): RawBuilder<SqlBool> {
    return sql<SqlBool>`exists (select 1 from ${set.from}${whereClause([...set.where, ...conditions])})`
  }

  /** One pair of values; the result is two-valued even when a side is NULL. */
  #scalar(operator: ComparisonOperator, a: Term, b: Term): Condition {
    if (a.kind === 'constant' && b.kind === 'constant') {
      return compareScalars(operator, constantValue(a), constantValue(b))
    }
    if (isIncomparable(a) || isIncomparable(b)) return isNegative(operator)
    if (operator === '!=') return negate(this.#scalar('=', a, b))
    if (operator === '!~') return negate(this.#scalar('~', a, b))
    if (operator === '~') return this.#contains(a, b)
    let op: OrderOperator = operator
    let [x, y] = [a, b]
    if (x.kind === 'constant') {
      ;[x, y] = [y, x]
      op = flipped[op]
    }
    const column = x as SqlScalar
    if (y.kind === 'constant') {
      if (y.value === null) {
        return op === '=' && column.isNullable ? sql<SqlBool>`(${column.expr} is null)` : false
      }
      return twoValued(sql<SqlBool>`(${column.expr} ${sqlOperators[op]} ${this.#constant(y)})`, [column])
    }
    if (op === '=') return this.ctx.dialect.isNotDistinctFrom(column.expr, y.expr)
    return twoValued(sql<SqlBool>`(${column.expr} ${sqlOperators[op]} ${y.expr})`, [column, y])
  }

  /** `a ~ b`: a contains b, ignoring case; b is literal text, so its wildcards are escaped. */
  #contains(a: Term, b: Term): Condition {
    const { dialect } = this.ctx
    if ((a.kind === 'constant' && a.value === null) || (b.kind === 'constant' && b.value === null)) {
      return false
    }
    const nullable = [a, b].filter((term): term is SqlScalar => term.kind === 'scalar')
    const text = a.kind === 'constant' ? dialect.asText(sql.val(a.value)) : a.expr
    const pattern =
      b.kind === 'constant'
        ? sql.val(containsPattern(String(b.value)))
        : sql`('%' || replace(replace(replace(${b.expr}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')`
    return twoValued(dialect.likeInsensitive(text, pattern), nullable)
  }

  #constant(term: ConstantTerm): RawBuilder<unknown> {
    // The database lowers both sides, so non-ASCII letters fold alike on each of them.
    return term.lower ? sql`lower(${this.ctx.dialect.asText(sql.val(term.value))})` : sql.val(term.value)
  }
}

function twoValued(condition: RawBuilder<SqlBool>, terms: SqlScalar[]): RawBuilder<SqlBool> {
  const nullable = terms.filter((term) => term.isNullable)
  if (nullable.length === 0) return condition
  if (nullable.every((term) => term.isCheap)) {
    const present = nullable.map((term) => sql`${term.expr} is not null`)
    return sql<SqlBool>`(${condition} and ${sql.join(present, sql` and `)})`
  }
  return sql<SqlBool>`coalesce(${condition}, false)`
}

function elementTerm(set: SetTerm): SqlScalar {
  const expr = set.lower ? sql`lower(${set.value})` : set.value
  return { kind: 'scalar', expr, isNullable: true, isCheap: true }
}

function listTerms(list: ListTerm): ConstantTerm[] {
  return list.values.map((value) => ({ kind: 'constant', value, lower: list.lower }))
}

function constantValue(term: ConstantTerm): Value {
  return term.lower ? lowerValue(term.value) : term.value
}

function isIncomparable(term: Term): boolean {
  return term.kind === 'constant' && term.value === INCOMPARABLE
}

function all(conditions: Condition[]): Condition {
  if (conditions.includes(false)) return false
  const rest = conditions.filter((c): c is RawBuilder<SqlBool> => c !== true)
  if (rest.length === 0) return true
  if (rest.length === 1) return rest[0]!
  return sql<SqlBool>`(${sql.join(rest, sql` and `)})`
}

function any(conditions: Condition[]): Condition {
  if (conditions.includes(true)) return true
  const rest = conditions.filter((c): c is RawBuilder<SqlBool> => c !== false)
  if (rest.length === 0) return false
  if (rest.length === 1) return rest[0]!
  return sql<SqlBool>`(${sql.join(rest, sql` or `)})`
}

function negate(condition: Condition): Condition {
  return typeof condition === 'boolean' ? !condition : sql<SqlBool>`(not ${condition})`
}
