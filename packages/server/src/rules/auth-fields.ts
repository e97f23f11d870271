import type { CollectionDefinition } from '../collections/index.js'
import { type FilterNode, parseFilter } from '../query/index.js'

/** Read from the signed-in record's session, not from its fields. */
const alwaysKnown = new Set(['id', 'collectionName'])

/** Credentials: never readable by a rule, whichever auth collection the caller comes from. */
export const neverAvailable = new Set(['password', 'tokenKey'])

/**
 * The names a rule may use after `@request.auth.`: a rule does not know which auth collection
 * the caller signed in to, so a field counts when at least one auth collection has it.
 */
export function authFieldNames(world: readonly CollectionDefinition[]): Set<string> {
  const names = new Set(alwaysKnown)
  for (const collection of world) {
    if (collection.type !== 'auth') continue
    for (const field of collection.fields)
      if (field.type !== 'password' && !neverAvailable.has(field.name)) names.add(field.name)
  }
  return names
}

/** The first name after each `@request.auth.` of a rule; none when it does not parse. */
export function authFieldsOf(expression: string): string[] {
  let tree: FilterNode
  try {
    tree = parseFilter(expression)
  } catch {
    return []
  }
  const names: string[] = []
  const visit = (node: FilterNode): void => {
    if (node.kind === 'and' || node.kind === 'or') node.operands.forEach(visit)
    else if (node.kind === 'not') visit(node.operand)
    else
      for (const side of [node.left, node.right])
        if (side.kind === 'request' && side.source === 'auth') names.push(side.path[0]!)
  }
  visit(tree)
  return names
}
