import { FilterError } from '../../errors/index.js'
import { type FilterNode, parseFilter } from '../../query/index.js'

type Operand = Extract<FilterNode, { kind: 'comparison' }>['left']

/**
 * A webhook filter is checked against the event alone, when it is fanned out: it may
 * read the record's own fields, literals and `@now`, but not related records, other
 * collections or a request (there is none), which would quietly read as null there.
 */
export function checkFilterScope(filter: string): void {
  visit(parseFilter(filter))
}

function visit(node: FilterNode): void {
  switch (node.kind) {
    case 'and':
    case 'or':
      for (const operand of node.operands) visit(operand)
      return
    case 'not':
      visit(node.operand)
      return
    case 'comparison':
      check(node.left)
      check(node.right)
  }
}

function check(operand: Operand): void {
  if (operand.kind === 'field' && operand.path.length > 1)
    throw new FilterError(
      operand.position,
      `"${operand.path.join('.')}" reads a related record; a webhook filter reads only the record's own fields`,
    )
  if (operand.kind === 'request' || operand.kind === 'collection')
    throw new FilterError(
      operand.position,
      `a webhook filter reads only the record's own fields, literals and @now, not @${operand.kind}`,
    )
}
