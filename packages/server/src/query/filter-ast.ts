/**
 * The syntax tree of a filter. Positions are 0-based offsets into the filter text, kept so
 * that errors found after parsing (unknown field, wrong type) still point at the culprit.
 * Trees built by code rather than parsed may use position 0 everywhere.
 */

export const comparisonOperators = ['=', '!=', '>', '>=', '<', '<=', '~', '!~'] as const
export type ComparisonOperator = (typeof comparisonOperators)[number]

export const modifierNames = ['isset', 'changed', 'length', 'each', 'lower'] as const
export type ModifierName = (typeof modifierNames)[number]

export interface Modifier {
  name: ModifierName
  position: number
}

export type FilterNode = AndNode | OrNode | NotNode | ComparisonNode

/** All operands hold; an empty list is `true` (the empty filter). */
export interface AndNode {
  kind: 'and'
  operands: FilterNode[]
  position: number
}

export interface OrNode {
  kind: 'or'
  operands: FilterNode[]
  position: number
}

export interface NotNode {
  kind: 'not'
  operand: FilterNode
  position: number
}

export interface ComparisonNode {
  kind: 'comparison'
  operator: ComparisonOperator
  /** Written with a leading `?`: at least one element must match instead of all. */
  anyOf: boolean
  left: OperandNode
  right: OperandNode
  /** Where the operator starts. */
  position: number
}

export type OperandNode = LiteralOperand | FieldOperand | MacroOperand | RequestOperand | CollectionOperand

export interface LiteralOperand {
  kind: 'literal'
  value: string | number | boolean | null
  modifiers: Modifier[]
  position: number
}

/** A field of the filtered collection, or a dotted path through its relations. */
export interface FieldOperand {
  kind: 'field'
  path: string[]
  modifiers: Modifier[]
  position: number
}

export type MacroName = 'now' | 'todayStart' | 'todayEnd'

export interface MacroOperand {
  kind: 'macro'
  name: MacroName
  modifiers: Modifier[]
  position: number
}

/**
 * `@request.auth.<path>`, `@request.body.<name>`, `@request.body.<relation>.<path>` (the
 * records the body's value of the relation names) or `@request.query.<name>`.
 */
export interface RequestOperand {
  kind: 'request'
  source: 'auth' | 'body' | 'query'
  path: string[]
  modifiers: Modifier[]
  position: number
}

/**
 * `@collection.<name>.<path>` or `@collection.<name>:<alias>.<path>`: a field of the rows of
 * another collection, a multi-valued operand. The any-of comparisons of one `&&` chain that
 * name the same collection and alias are checked against the same row.
 */
export interface CollectionOperand {
  kind: 'collection'
  collection: string
  alias: string | null
  path: string[]
  modifiers: Modifier[]
  position: number
  /** Where the path after `@collection.<name>[:<alias>].` starts. */
  pathPosition: number
}
