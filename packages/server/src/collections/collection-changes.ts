import { BadRequestError, NotFoundError, ValidationError } from '../errors/index.js'
import { applyCollectionPatch, type DefinitionEnvironment, parseNewCollection } from './definition.js'
import type { CollectionDefinition } from './types.js'
import { refuseWhileViewsRead } from './view-checks.js'

/** One collection change, worked out against every collection as it is before it. */
export interface Change {
  name: string
  before: CollectionDefinition | null
  after: CollectionDefinition | null
  /** Other definitions that only change as JSON (relation targets after a rename). */
  rewrites: Array<[CollectionDefinition, CollectionDefinition]>
}

/** Works out one change from every collection as it is at that point of the migration. */
export type Compute = (world: CollectionDefinition[]) => Change

export function creating(input: unknown): Compute {
  return (world) => {
    const name = (input as { name?: unknown })?.name
    const id = (input as { id?: unknown })?.id
    if (typeof id === 'string' && world.some((c) => c.id === id))
      throw new ValidationError({ id: { code: 'duplicate', message: `a collection with id ${id} exists` } })
    if (typeof name === 'string' && world.some((c) => c.name.toLowerCase() === name.toLowerCase()))
      throw new ValidationError({
        name: { code: 'duplicate', message: `a collection named ${name} exists` },
      })
    const after = parseNewCollection(input, environment(world, typeof name === 'string' ? name : null))
    return { name: `create ${after.name}`, before: null, after, rewrites: [] }
  }
}

export function updating(name: string, input: unknown): Compute {
  return (world) => {
    const before = world.find((c) => c.name === name)
    if (!before) throw new NotFoundError('collection')
    const newName = (input as { name?: unknown })?.name
    if (
      typeof newName === 'string' &&
      newName !== name &&
      world.some((c) => c.id !== before.id && c.name.toLowerCase() === newName.toLowerCase())
    )
      throw new ValidationError({
        name: { code: 'duplicate', message: `a collection named ${newName} exists` },
      })
    const after = applyCollectionPatch(
      before,
      input,
      environment(world, typeof newName === 'string' ? newName : name, name),
    )
    const rewrites: Change['rewrites'] = []
    if (after.name !== before.name) refuseWhileViewsRead(world, name, 'renamed')
    if (after.name !== before.name) {
      for (const other of world) {
        const source = other.id === before.id ? after : other
        if (!source.fields.some((f) => f.type === 'relation' && f.collection === before.name)) continue
        const rewritten = {
          ...source,
          fields: source.fields.map((f) =>
            f.type === 'relation' && f.collection === before.name ? { ...f, collection: after.name } : f,
          ),
        }
        if (other.id === before.id) Object.assign(after, { fields: rewritten.fields })
        else rewrites.push([other, rewritten])
      }
    }
    return { name: `update ${name}`, before, after, rewrites }
  }
}

export function deleting(name: string): Compute {
  return (world) => {
    const before = world.find((c) => c.name === name)
    if (!before) throw new NotFoundError('collection')
    if (before.system) throw new BadRequestError('System collections cannot be deleted.')
    const users = world.flatMap((c) =>
      c.id === before.id
        ? []
        : c.fields
            .filter((f) => f.type === 'relation' && f.collection === name)
            .map((f) => `${c.name}.${f.name}`),
    )
    refuseWhileViewsRead(world, name, 'deleted')
    if (users.length > 0)
      throw new BadRequestError(
        `The collection is the target of relations (${users.join(', ')}); remove them first.`,
        'validation_failed',
        {
          name: { code: 'in_use', message: `referenced by ${users.join(', ')}` },
        },
      )
    return { name: `delete ${name}`, before, after: null, rewrites: [] }
  }
}

function environment(
  world: CollectionDefinition[],
  name: string | null,
  previousName?: string,
): DefinitionEnvironment {
  const names = new Set(world.map((c) => c.name).filter((n) => n !== previousName))
  if (name) names.add(name)
  return { collectionExists: (n) => names.has(n), now: new Date().toISOString() }
}
