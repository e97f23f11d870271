import type { CollectionDefinition } from './types.js'

/**
 * The collections as this node knows them, swapped whole after each change so a
 * request sees one consistent set. Definitions are frozen: caches key on identity.
 */
export class CollectionRegistry {
  #byName = new Map<string, CollectionDefinition>()

  replace(definitions: CollectionDefinition[]): void {
    this.#byName = new Map(definitions.map((d) => [d.name, deepFreeze(d)]))
  }

  get(name: string): CollectionDefinition | undefined {
    return this.#byName.get(name)
  }

  all(): CollectionDefinition[] {
    return [...this.#byName.values()]
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
