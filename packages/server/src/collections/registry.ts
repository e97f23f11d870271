import type { CollectionDefinition, FieldDefinition } from './types.js'

/** A relation field whose records go when the record they point to is deleted. */
export interface CascadingRelation {
  owner: CollectionDefinition
  field: FieldDefinition
}

/**
 * The collections as this node knows them, swapped whole after each change so a
 * request sees one consistent set. Definitions are frozen: caches key on identity.
 */
export class CollectionRegistry {
  #byName = new Map<string, CollectionDefinition>()
  #cascades: Map<string, CascadingRelation[]> | null = null

  replace(definitions: CollectionDefinition[]): void {
    this.#byName = new Map(definitions.map((d) => [d.name, deepFreeze(d)]))
    this.#cascades = null
  }

  get(name: string): CollectionDefinition | undefined {
    return this.#byName.get(name)
  }

  all(): CollectionDefinition[] {
    return [...this.#byName.values()]
  }

  /**
   * The relations with `onDelete: cascade` that point into a collection. Found once per set
   * of definitions: every delete asks, and most collections have none.
   */
  cascadingInto(name: string): readonly CascadingRelation[] {
    if (!this.#cascades) {
      this.#cascades = new Map()
      for (const owner of this.#byName.values())
        for (const field of owner.fields)
          if (field.type === 'relation' && field.onDelete === 'cascade' && field.collection) {
            const into = this.#cascades.get(field.collection) ?? []
            into.push({ owner, field })
            this.#cascades.set(field.collection, into)
          }
    }
    return this.#cascades.get(name) ?? NO_CASCADES
  }
}

const NO_CASCADES: readonly CascadingRelation[] = Object.freeze([])

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
