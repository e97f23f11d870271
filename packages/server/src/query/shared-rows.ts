/*
 * `@collection.x.field` stands for the values of `field` over every row of `x`: a
 * multi-valued operand, so `?=` asks whether some row matches and `=` whether all do.
 * Within one `&&` chain, the any-of comparisons naming the same `@collection.x` (with the same
 * alias, or none) are checked against one and the same row:
 *
 *   @collection.members.user ?= @request.auth.id && @collection.members.team ?= team
 *
 * holds when some row of `members` has both that user and that team. With different aliases
 * (`@collection.members:a.user`, `@collection.members:b.user`) each alias is a row of its own.
 * Plain-operator comparisons need no sharing: "every row has A" and "every row has B" is
 * already "every row has A and B". `:length` counts over all rows and is never shared.
 */
import { isMultiValued } from '../collections/types.js'
import type { ComparisonPlan, PlanSide } from './comparison-plan.js'
import type { ComparisonNode, FilterNode, OperandNode } from './filter-ast.js'
import type { PathRoot } from './operand-resolver.js'
import { reachesMany } from './relation-hops.js'

/** One operand of an `&&` chain, or the comparisons that share a row of another collection. */
export type ConjunctionPart =
  | { kind: 'node'; node: FilterNode }
  | { kind: 'shared'; key: string; comparisons: ComparisonNode[] }

/** The operands of an `&&` chain (nested chains flattened), sharing rows where the rule above says so. */
export function conjunctionParts(operands: FilterNode[]): ConjunctionPart[] {
  const parts: ConjunctionPart[] = []
  const shared = new Map<string, ComparisonNode[]>()
  const visit = (node: FilterNode) => {
    if (node.kind === 'and') {
      node.operands.forEach(visit)
      return
    }
    const key = node.kind === 'comparison' ? sharedKey(node) : undefined
    if (key === undefined) {
      parts.push({ kind: 'node', node })
      return
    }
    const group = shared.get(key)
    if (group) {
      group.push(node as ComparisonNode)
      return
    }
    const comparisons = [node as ComparisonNode]
    shared.set(key, comparisons)
    parts.push({ kind: 'shared', key, comparisons })
  }
  operands.forEach(visit)
  // Alone, a comparison means the same on a shared row as on all rows.
  return parts.map((part) =>
    part.kind === 'shared' && part.comparisons.length === 1
      ? { kind: 'node', node: part.comparisons[0]! }
      : part,
  )
}

function sharedKey(node: ComparisonNode): string | undefined {
  if (!node.anyOf) return undefined
  const sides = [node.left, node.right].filter((side) => side.kind === 'collection')
  if (sides.length !== 1) return undefined
  const side = sides[0] as OperandNode & { kind: 'collection' }
  if (side.modifiers.some((m) => m.name === 'length')) return undefined
  return `${side.collection}:${side.alias ?? ''}`
}

/** The `@collection` root of a planned shared comparison. */
export function sharedRoot(plan: ComparisonPlan): PathRoot & { kind: 'collection' } {
  for (const side of [plan.left, plan.right]) {
    if (side.kind === 'path' && side.path.root.kind === 'collection') return side.path.root
  }
  throw new Error('A shared comparison has no @collection side')
}

/** The plan with its `@collection` side read from one row, bound to `alias`. */
export function bindRow(plan: ComparisonPlan, alias: string): ComparisonPlan {
  const bind = (side: PlanSide): PlanSide => {
    if (side.kind !== 'path' || side.path.root.kind !== 'collection') return side
    const { path } = side
    return {
      ...side,
      path: {
        ...path,
        root: { kind: 'row', collection: side.path.root.collection, alias },
        isMultiValued: path.hops.some(reachesMany) || isMultiValued(path.field),
      },
    }
  }
  return { ...plan, left: bind(plan.left), right: bind(plan.right) }
}
