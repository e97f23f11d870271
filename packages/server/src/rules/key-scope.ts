import type { CollectionDefinition } from '../collections/index.js'
import { ForbiddenError } from '../errors/index.js'
import type { Caller, RecordOperation } from '../identity/index.js'

/** Whether the caller's API key grants the operation on the collection; always true without a key. */
export function isInKeyScope(
  caller: Caller,
  collection: CollectionDefinition,
  operation: RecordOperation,
): boolean {
  if (!caller.apiKey) return true
  return caller.apiKey.scopes.some(
    (scope) =>
      (scope.collection === '*' || scope.collection === collection.name) &&
      scope.operations.includes(operation),
  )
}

/**
 * An API key narrows what its owner may do to the operations its scopes name; the
 * collection's rules still apply on top. Checked before anything is read or validated.
 */
export function assertKeyScope(
  caller: Caller,
  collection: CollectionDefinition,
  operation: RecordOperation,
): void {
  if (!isInKeyScope(caller, collection, operation))
    throw new ForbiddenError(`The API key has no "${operation}" scope for the collection ${collection.name}.`)
}

/**
 * What an API key's filter and sort may reach through relations and `@collection`: the
 * collections it may view, as with expand, or a key scoped to one collection could still read
 * another by filtering on it. Undefined without a key.
 */
export function keyReach(caller: Caller): ((collection: CollectionDefinition) => boolean) | undefined {
  if (!caller.apiKey) return undefined
  return (collection) => isInKeyScope(caller, collection, 'view')
}
