import { isPrototypeKey } from '../errors/index.js'

/**
 * Names of collections and fields become SQL identifiers, so they are checked here
 * once, and only names that passed this check ever reach a query (always quoted).
 */
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/

/** Names Plinth uses itself in records and their JSON. */
const reservedFieldNames = new Set([
  'expand',
  'collectionid',
  'collectionname',
  '_version',
  'passwordconfirm',
])

/** Also refuses `constructor` and `prototype`: names become keys of records, projections and rule contexts. */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name) && !isPrototypeKey(name)
}

export function isValidCollectionName(name: unknown): name is string {
  return isValidName(name)
}

/** System collections (`_superusers`) are created by Plinth, never through the API. */
export function isSystemCollectionName(name: string): boolean {
  return /^_[a-z][a-z0-9_]*$/.test(name)
}

export function isReservedFieldName(name: string): boolean {
  return reservedFieldNames.has(name.toLowerCase())
}
