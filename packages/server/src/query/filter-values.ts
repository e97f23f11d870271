/**
 * What a comparison means, on plain JavaScript values. The in-memory evaluator runs these
 * functions directly; the SQL compiler folds constant comparisons with them and otherwise
 * emits SQL that must agree with them on every row (the property tests hold it to that).
 *
 * - Comparisons are two-valued: never "unknown", so `!` is plain negation.
 * - `=` and `!=` are null-safe: `null = null` is true.
 * - `<`, `<=`, `>`, `>=` with a null side are false; so are `~` and every comparison with an
 *   incomparable value (a request value of the wrong type); `!=` and `!~` are the negations.
 * - `~` is "contains", ignoring ASCII case; the right side is taken literally (`%`, `_`).
 *   PostgreSQL's ILIKE and lower() also fold non-ASCII letters; SQLite's do not.
 * - Text orders by Unicode code point: SQLite's BINARY collation. PostgreSQL uses the
 *   database's collation, which agrees under C or C.UTF-8.
 * - Multi-valued operands (see compareOperands) compare element by element.
 */
import type { FieldDefinition } from '../collections/types.js'
import type { ComparisonOperator } from './filter-ast.js'

/** A request value whose type cannot be compared with the other side (e.g. an object). */
export const INCOMPARABLE: unique symbol = Symbol('incomparable')

type Scalar = string | number | boolean | null
export type Value = Scalar | typeof INCOMPARABLE
export type ValueType = 'text' | 'number' | 'bool' | 'date' | 'json'

export type Operand = { multi: false; value: Value } | { multi: true; values: Value[] }

/**
 * `any` for `?op`, `each` for `:each`, `plain` otherwise; `empty` for a multi-valued side
 * compared by `=` or `!=` with a constant null, which asks whether it is empty.
 */
export type Quantifier = 'plain' | 'any' | 'each' | 'empty'

export function fieldValueType(field: FieldDefinition): ValueType {
  switch (field.type) {
    case 'number':
      return 'number'
    case 'bool':
      return 'bool'
    case 'date':
    case 'autodate':
      return 'date'
    case 'json':
      return 'json'
    default:
      return 'text'
  }
}

export function isNegative(operator: ComparisonOperator): boolean {
  return operator === '!=' || operator === '!~'
}

export function compareScalars(operator: ComparisonOperator, a: Value, b: Value): boolean {
  if (a === INCOMPARABLE || b === INCOMPARABLE) return isNegative(operator)
  switch (operator) {
    case '=':
      return a === b
    case '!=':
      return a !== b
    case '~':
      return contains(a, b)
    case '!~':
      return !contains(a, b)
    default: {
      if (a === null || b === null || typeof a !== typeof b) return false
      const order = compareNonNull(a, b)
      if (operator === '>') return order > 0
      if (operator === '>=') return order >= 0
      if (operator === '<') return order < 0
      return order <= 0
    }
  }
}

/**
 * Multi-valued operands compare as every pair (left element, right element); a scalar is
 * a one-element list. `any`: some pair holds. `plain` and `each`: both lists are non-empty
 * and every pair holds. `empty` (`tags = null`, `tags != null`): whether the list is empty.
 */
export function compareOperands(
  operator: ComparisonOperator,
  quantifier: Quantifier,
  left: Operand,
  right: Operand,
): boolean {
  if (quantifier === 'empty') {
    const list = left.multi ? left.values : right.multi ? right.values : []
    return (list.length === 0) === (operator === '=')
  }
  if (!left.multi && !right.multi) return compareScalars(operator, left.value, right.value)
  const lefts: Value[] = left.multi ? left.values : [left.value]
  const rights: Value[] = right.multi ? right.values : [right.value]
  if (quantifier === 'any') return lefts.some((a) => rights.some((b) => compareScalars(operator, a, b)))
  return (
    lefts.length > 0 &&
    rights.length > 0 &&
    lefts.every((a) => rights.every((b) => compareScalars(operator, a, b)))
  )
}

function contains(a: Value, b: Value): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false
  return asciiLower(a).includes(asciiLower(b))
}

function compareNonNull(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string') return compareText(a, b as string)
  return Number(a) - Number(b)
}

/** Code-point order, which is byte order of UTF-8 (JavaScript's `<` compares UTF-16 units). */
function compareText(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(i)!
    if (x !== y) return x - y
    if (x > 0xffff) i++
  }
  return a.length - b.length
}

/** SQLite's lower() and LIKE fold ASCII letters only; the evaluator does the same. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** A `~` operand as a LIKE pattern: taken literally, then wrapped in `%…%`. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}
