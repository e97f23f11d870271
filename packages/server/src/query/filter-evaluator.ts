import { canonicalDate } from '../collections/index.js'
import { type FieldDefinition, isMultiRelation, isMultiValued } from '../collections/types.js'
import {
  type ComparisonPlan,
  constantOperand,
  lowerValue,
  type PlanSide,
  planComparison,
} from './comparison-plan.js'
import type { FilterNode } from './filter-ast.js'
import type { EvaluationContext } from './filter-context.js'
import { checkFilterTree, parseFilter } from './filter-parser.js'
import { compareOperands, INCOMPARABLE, type Operand, type Value } from './filter-values.js'
import type { FieldPath } from './operand-resolver.js'
import { type RecordGuard, recordGuard } from './relation-access.js'
import type { Hop } from './relation-hops.js'
import { bindRow, type ConjunctionPart, conjunctionParts, sharedRoot } from './shared-rows.js'

type Row = Record<string, unknown>

/** Rows of other collections bound by shared `@collection` comparisons, by alias. */
type BoundRows = ReadonlyMap<string, Row>

const noRows: BoundRows = new Map()

/**
 * Whether a record, as the API shows it (multi relations as id arrays), matches a filter.
 * Same checks, errors and meaning as compileFilter; relation paths read related records
 * through `ctx.lookup`.
 */
export function evaluateFilter(input: string | FilterNode, record: Row, ctx: EvaluationContext): boolean {
  const node = typeof input === 'string' ? parseFilter(input) : checkFilterTree(input)
  return evaluate(node, record, ctx)
}

function evaluate(node: FilterNode, record: Row, ctx: EvaluationContext): boolean {
  switch (node.kind) {
    case 'and':
      return conjunctionParts(node.operands).every((part) => evaluatePart(part, record, ctx))
    case 'or':
      return node.operands.some((operand) => evaluate(operand, record, ctx))
    case 'not':
      return !evaluate(node.operand, record, ctx)
    case 'comparison': {
      const plan = planComparison(node, ctx)
      return typeof plan === 'boolean' ? plan : comparePlan(plan, record, ctx, noRows)
    }
  }
}

function evaluatePart(part: ConjunctionPart, record: Row, ctx: EvaluationContext): boolean {
  if (part.kind === 'node') return evaluate(part.node, record, ctx)
  const plans = part.comparisons.map((comparison) => planComparison(comparison, ctx) as ComparisonPlan)
  const root = sharedRoot(plans[0]!)
  const bound = plans.map((plan) => bindRow(plan, part.key))
  return (ctx.records?.(root.collection.name) ?? []).some((row) => {
    const rows = new Map([[part.key, row]])
    return bound.every((plan) => comparePlan(plan, record, ctx, rows))
  })
}

function comparePlan(plan: ComparisonPlan, record: Row, ctx: EvaluationContext, bound: BoundRows): boolean {
  const guard = recordGuard(ctx, evaluateFilter)
  const left = operandOf(plan.left, record, ctx, bound, guard)
  const right = operandOf(plan.right, record, ctx, bound, guard)
  return compareOperands(plan.operator, plan.quantifier, left, right)
}

function operandOf(
  side: PlanSide,
  record: Row,
  ctx: EvaluationContext,
  bound: BoundRows,
  guard: RecordGuard | undefined,
): Operand {
  switch (side.kind) {
    case 'value':
    case 'list':
      return constantOperand(side)
    case 'count':
      return { multi: false, value: elementsOf(side.path, record, ctx, bound, guard).length }
    case 'path': {
      const values = elementsOf(side.path, record, ctx, bound, guard).map((v) =>
        side.lower ? lowerValue(v) : v,
      )
      return side.path.isMultiValued ? { multi: true, values } : { multi: false, value: values[0] ?? null }
    }
  }
}

function rootRows(
  path: FieldPath,
  record: Row,
  ctx: EvaluationContext,
  bound: BoundRows,
  guard: RecordGuard | undefined,
): (Row | null)[] {
  const { root } = path
  switch (root.kind) {
    case 'record':
      return [record]
    case 'auth':
      return [ctx.request.auth?.record ?? null]
    case 'body': {
      const rows = root.ids
        .map((id) => ctx.lookup?.(root.collection.name, id))
        .filter((row): row is Row => row !== undefined && (!guard || guard.reaches(root.collection, row)))
      return root.isMulti ? rows : [rows[0] ?? null]
    }
    case 'collection':
      return ctx.records?.(root.collection.name) ?? []
    case 'row':
      return [bound.get(root.alias) ?? null]
  }
}

/**
 * The values a path reaches, mirroring path-sql.ts: a single relation maps a record to its
 * target or to null; a multi relation or multi select flattens, and a null contributes nothing.
 */
function elementsOf(
  path: FieldPath,
  record: Row,
  ctx: EvaluationContext,
  bound: BoundRows,
  guard: RecordGuard | undefined,
): Value[] {
  let rows = rootRows(path, record, ctx, bound, guard)
  for (const hop of path.hops) {
    const { field, target } = hop
    if (hop.back) {
      rows = pointingBack(rows, hop, ctx, guard)
      continue
    }
    // A related record the guard hides counts as missing, as in path-sql.ts.
    const find = (id: unknown): Row | null => {
      if (id === null || id === undefined) return null
      const related = ctx.lookup?.(target.name, String(id))
      return related && (!guard || guard.reaches(target, related)) ? related : null
    }
    const next: (Row | null)[] = []
    for (const row of rows) {
      if (isMultiRelation(field)) {
        for (const id of listOf(row?.[field.name])) {
          const related = find(id)
          if (related) next.push(related)
        }
      } else {
        next.push(find(row?.[field.name]))
      }
    }
    rows = next
  }
  const { field } = path
  if (isMultiValued(field))
    return rows.flatMap((row) => listOf(row?.[field.name]).map((v) => normalize(field, v)))
  return rows.map((row) => {
    if (row === null) return null
    return normalize(field, guard ? guard.value(path, row) : row[field.name])
  })
}

/**
 * The records of a back-relation's collection that point to each row, read from every row of
 * that collection (as `@collection` is): all of them, or the one or null where at most one
 * can point back, as in path-sql.ts.
 */
function pointingBack(
  rows: (Row | null)[],
  hop: Hop,
  ctx: EvaluationContext,
  guard: RecordGuard | undefined,
) {
  const candidates = (ctx.records?.(hop.target.name) ?? []).filter(
    (candidate) => !guard || guard.reaches(hop.target, candidate),
  )
  const next: (Row | null)[] = []
  for (const row of rows) {
    const id = row?.id
    const found =
      id === undefined || id === null
        ? []
        : candidates.filter((candidate) => listOf(candidate[hop.field.name]).includes(id))
    if (hop.back?.isSingle) next.push(found[0] ?? null)
    else next.push(...found)
  }
  return next
}

function listOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  return value === null || value === undefined ? [] : [value]
}

/** A stored value in the form comparisons use (ISO dates, real booleans). */
function normalize(field: FieldDefinition, raw: unknown): Value {
  if (raw === null || raw === undefined) return null
  switch (field.type) {
    case 'number':
      return typeof raw === 'number' ? raw : INCOMPARABLE
    case 'bool':
      return typeof raw === 'boolean' ? raw : raw === 1 ? true : raw === 0 ? false : INCOMPARABLE
    case 'date':
    case 'autodate':
      if (raw instanceof Date) return raw.toISOString()
      return typeof raw === 'string' ? (canonicalDate(raw, 'utc') ?? INCOMPARABLE) : INCOMPARABLE
    case 'json':
      // Only `= null` and `!= null` apply to json, and this value is not null.
      return INCOMPARABLE
    default:
      return typeof raw === 'string' ? raw : String(raw)
  }
}
