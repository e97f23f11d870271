import { canonicalDate, DATE_FILTER_FORMAT } from '../collections/index.js'
import { FilterError } from '../errors/index.js'
import type { ComparisonNode, ComparisonOperator } from './filter-ast.js'
import type { ResolveContext } from './filter-context.js'
import {
  asciiLower,
  compareOperands,
  INCOMPARABLE,
  type Operand,
  type Quantifier,
  type Value,
  type ValueType,
} from './filter-values.js'
import { type FieldPath, type ResolvedOperand, resolveOperand, type Strength } from './operand-resolver.js'

/** One side of a checked comparison: constants already converted to the type compared. */
export type PlanSide =
  | { kind: 'value'; value: Value; lower: boolean }
  | { kind: 'list'; values: Value[]; lower: boolean }
  | { kind: 'path'; path: FieldPath; lower: boolean }
  | { kind: 'count'; path: FieldPath }

export interface ComparisonPlan {
  operator: ComparisonOperator
  quantifier: Quantifier
  left: PlanSide
  right: PlanSide
}

/**
 * Resolves and type-checks one comparison. Returns a plain boolean when no side depends on
 * the record (e.g. `@request.auth.id != ""`), so both backends skip it alike.
 */
export function planComparison(node: ComparisonNode, ctx: ResolveContext): ComparisonPlan | boolean {
  const fail = (position: number, why: string): never => {
    throw new FilterError(position, why)
  }
  const left = resolveOperand(node.left, ctx)
  const right = resolveOperand(node.right, ctx)
  if (
    left.kind === 'constant' &&
    right.kind === 'constant' &&
    left.strength === 'literal' &&
    right.strength === 'literal'
  ) {
    fail(node.left.position, 'A comparison needs a field or a macro on one side, not two literals')
  }
  const each = [node.left, node.right].some((side) => side.modifiers.some((m) => m.name === 'each'))
  if (each && node.anyOf) {
    fail(node.position, `:each cannot be used with the any-of operator ?${node.operator}`)
  }
  if (isMultiPath(left) && isMultiPath(right)) {
    fail(node.position, 'Only one side of a comparison may be a multi-valued field')
  }
  const quantifier: Quantifier = node.anyOf ? 'any' : each ? 'each' : 'plain'
  const type = commonType(left, right, node, fail)

  if (
    type === 'json' &&
    !(isNullConstant(left.kind === 'path' ? right : left) && isEquality(node.operator))
  ) {
    fail(node.position, 'A json field can only be compared with null, by = or !=')
  }
  if ((node.operator === '~' || node.operator === '!~') && type !== 'text' && isFieldSide(left, right)) {
    fail(node.position, `${node.operator} compares text, not ${type}`)
  }

  const plan: ComparisonPlan = {
    operator: node.operator,
    quantifier,
    left: convert(left, type, right, fail),
    right: convert(right, type, left, fail),
  }
  if (quantifier === 'plain' && isEquality(plan.operator) && asksEmptiness(plan.left, plan.right)) {
    plan.quantifier = 'empty'
  }
  if (isConstantSide(plan.left) && isConstantSide(plan.right)) {
    const [a, b] = [constantOperand(plan.left), constantOperand(plan.right)]
    if (plan.quantifier === 'plain' && isEquality(plan.operator) && isBlank(a) && isBlank(b)) {
      return plan.operator === '='
    }
    return compareOperands(plan.operator, plan.quantifier, a, b)
  }
  return plan
}

/**
 * A request value that is absent reads as empty text, as in PocketBase: a guest's
 * `@request.auth.id != ""` is false, so the rule every tutorial writes keeps guests out.
 */
function isBlank(operand: Operand): boolean {
  return !operand.multi && (operand.value === null || operand.value === '')
}

/** The value of a constant side as the evaluator and the folding see it. */
export function constantOperand(side: PlanSide & { kind: 'value' | 'list' }): Operand {
  if (side.kind === 'value') return { multi: false, value: side.lower ? lowerValue(side.value) : side.value }
  return { multi: true, values: side.lower ? side.values.map(lowerValue) : side.values }
}

export function lowerValue(value: Value): Value {
  return typeof value === 'string' ? asciiLower(value) : value
}

/** One side is multi-valued and the other the constant null: `tags = null` asks for no tags. */
function asksEmptiness(a: PlanSide, b: PlanSide): boolean {
  const isMulti = (side: PlanSide) =>
    side.kind === 'list' || (side.kind === 'path' && side.path.isMultiValued)
  const isNull = (side: PlanSide) => side.kind === 'value' && side.value === null
  return (isMulti(a) && isNull(b)) || (isMulti(b) && isNull(a))
}

function isConstantSide(side: PlanSide): side is PlanSide & { kind: 'value' | 'list' } {
  return side.kind === 'value' || side.kind === 'list'
}

function isMultiPath(side: ResolvedOperand): boolean {
  return side.kind === 'path' && side.path.isMultiValued
}

function isFieldSide(a: ResolvedOperand, b: ResolvedOperand): boolean {
  return a.kind === 'path' || a.kind === 'count' || b.kind === 'path' || b.kind === 'count'
}

/** Null, or a request value that may be null at run time. */
function isNullConstant(side: ResolvedOperand): boolean {
  return side.kind === 'constant' && (side.value === null || side.strength === 'dynamic')
}

function isEquality(operator: ComparisonOperator): boolean {
  return operator === '=' || operator === '!='
}

/** The type a side surely has, or null for a constant that may still be converted. */
function fixedType(side: ResolvedOperand): ValueType | null {
  if (side.kind === 'path') return side.path.type
  if (side.kind === 'count') return 'number'
  if (side.kind === 'constant' && side.strength === 'typed') return side.type
  return null
}

function ownType(value: Value): ValueType | null {
  if (typeof value === 'string') return 'text'
  if (typeof value === 'number') return 'number'
  if (typeof value === 'boolean') return 'bool'
  return null
}

function commonType(
  left: ResolvedOperand,
  right: ResolvedOperand,
  node: ComparisonNode,
  fail: (position: number, why: string) => never,
): ValueType {
  const a = fixedType(left)
  const b = fixedType(right)
  if (a && b) {
    if (a !== b) fail(node.position, `Cannot compare ${describe(left, a)} with ${describe(right, b)}`)
    return a
  }
  if (a || b) return (a ?? b)!
  // Two constants, neither typed: a literal decides; among request values, a non-text one does.
  const literal = [left, right].find((side) => side.kind === 'constant' && side.strength === 'literal')
  if (literal?.kind === 'constant') return ownType(literal.value) ?? 'text'
  const values = [left, right].flatMap((side): Value[] =>
    side.kind === 'constant' ? [side.value] : side.kind === 'list' ? side.values : [],
  )
  return values.map(ownType).find((t) => t !== null && t !== 'text') ?? 'text'
}

function convert(
  side: ResolvedOperand,
  type: ValueType,
  other: ResolvedOperand,
  fail: (position: number, why: string) => never,
): PlanSide {
  switch (side.kind) {
    case 'path':
      return { kind: 'path', path: side.path, lower: side.lower }
    case 'count':
      return side
    case 'list':
      return {
        kind: 'list',
        values: side.values.map((v) => coerce(v, type, 'dynamic') ?? INCOMPARABLE),
        lower: side.lower,
      }
    case 'constant': {
      const fromDate = side.type === 'date' && type !== 'date'
      const value = fromDate ? undefined : coerce(side.value, type, side.strength)
      if (value !== undefined) return { kind: 'value', value, lower: side.lower }
      if (side.strength === 'dynamic') return { kind: 'value', value: INCOMPARABLE, lower: false }
      const shown =
        typeof side.value === 'string' && side.type !== 'date'
          ? JSON.stringify(side.value)
          : String(side.value)
      return fail(side.position, `Cannot compare ${describe(other, type)} with ${shown}${expectation(type)}`)
    }
  }
}

const numericText = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/

/** The value as `type`, or undefined when it cannot be one. Null and incomparable pass through. */
function coerce(value: Value, type: ValueType, strength: Strength): Value | undefined {
  if (value === null || value === INCOMPARABLE) return value
  switch (type) {
    case 'text':
      return typeof value === 'string' ? value : undefined
    case 'number':
      if (typeof value === 'number') return value
      if (typeof value !== 'string' || !numericText.test(value)) return undefined
      return Number.isFinite(Number(value)) ? Number(value) : undefined
    case 'bool':
      if (typeof value === 'boolean') return value
      // Query strings carry only text, so `?published=true` must still mean true.
      if (strength === 'dynamic' && (value === 'true' || value === 'false')) return value === 'true'
      return undefined
    case 'date':
      return typeof value === 'string' ? (canonicalDate(value, 'utc') ?? undefined) : undefined
    case 'json':
      return undefined
  }
}

function describe(side: ResolvedOperand, type: ValueType): string {
  if (side.kind === 'path') return `"${side.path.name}" (${type})`
  if (side.kind === 'count') return `"${side.path.name}:length" (number)`
  return `a ${type} value`
}

function expectation(type: ValueType): string {
  switch (type) {
    case 'number':
      return '; expected a number'
    case 'bool':
      return '; expected true or false'
    case 'date':
      return `; expected ${DATE_FILTER_FORMAT}`
    case 'json':
      return '; a json field can only be compared with null'
    default:
      return '; expected a string'
  }
}
