import { type CollectionDefinition, isView } from './types.js'
import { viewSources } from './view-query.js'

/** The views (other than `name` itself) whose query names the collection `name`. */
export function viewsReading(world: readonly CollectionDefinition[], name: string): CollectionDefinition[] {
  const names = world.map((c) => c.name)
  return world.filter(
    (c) => isView(c) && c.name !== name && viewSources(c.viewQuery ?? '', names).includes(name),
  )
}

/**
 * Every view that reads `name`, directly or through other views, in an order they can be
 * created in (a view after the views it reads); dropped in the reverse order.
 */
export function dependentViews(world: readonly CollectionDefinition[], name: string): CollectionDefinition[] {
  const found = new Map<string, CollectionDefinition>()
  const pending = [name]
  while (pending.length > 0) {
    for (const view of viewsReading(world, pending.pop()!))
      if (!found.has(view.name) && view.name !== name) {
        found.set(view.name, view)
        pending.push(view.name)
      }
  }
  const names = world.map((c) => c.name)
  const ordered: CollectionDefinition[] = []
  const placed = new Set<string>()
  let rest = [...found.values()]
  while (rest.length > 0) {
    const ready = rest.filter((view) =>
      viewSources(view.viewQuery ?? '', names).every((source) => !found.has(source) || placed.has(source)),
    )
    // A cycle cannot be created in the database; taking the rest as they are ends the loop.
    const next = ready.length > 0 ? ready : rest
    for (const view of next) {
      ordered.push(view)
      placed.add(view.name)
    }
    rest = rest.filter((view) => !placed.has(view.name))
  }
  return ordered
}

/** The collections a view's query reads, for inferring its fields. */
export function sourcesOf(
  view: CollectionDefinition,
  world: readonly CollectionDefinition[],
): CollectionDefinition[] {
  const names = viewSources(
    view.viewQuery ?? '',
    world.filter((c) => c.id !== view.id).map((c) => c.name),
  )
  return world.filter((c) => names.includes(c.name))
}
