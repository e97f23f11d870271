import { BadRequestError, ValidationError } from '../errors/index.js'
import {
  applyCollectionPatch,
  type DefinitionEnvironment,
  newStableId,
  parseNewCollection,
} from './definition.js'
import { explainStepError } from './plan-messages.js'
import { diffDefinitions, indexLabel } from './schema-diff.js'
import {
  canonical,
  type FileField,
  type FileIndex,
  isBuiltIn,
  type Json,
  type SchemaCollection,
  type SchemaFile,
} from './schema-file.js'
import type { RuleChecker } from './service.js'
import { type CollectionDefinition, isView } from './types.js'
import { viewsReading } from './view-dependencies.js'
import { viewSources } from './view-query.js'

/** One call to the collection service; `done` is the line printed once it succeeded. */
export type SchemaStep =
  | { action: 'create' | 'update'; collection: string; input: Json; done: string }
  | { action: 'delete'; collection: string; done: string }

export interface CollectionChange {
  kind: 'create' | 'update' | 'delete' | 'untracked'
  name: string
  previousName?: string
  details: string[]
}

export interface SchemaPlan {
  steps: SchemaStep[]
  changes: CollectionChange[]
}

export interface PlanOptions {
  deleteMissing?: boolean
  /** The service's rule compiler, so a rule that would be refused stops the plan before any step runs. */
  checkRules?: RuleChecker
}

/**
 * The steps that make `current` match `file`, checked in memory with the service's own
 * definition rules first, so a file that would be refused half-way is refused before any step runs.
 *
 * @example planSchemaImport(collections.list(), parseSchemaFile(text), { deleteMissing: true }).steps
 */
export function planSchemaImport(
  current: readonly CollectionDefinition[],
  file: SchemaFile,
  options: PlanOptions = {},
): SchemaPlan {
  const planner = new Planner(current, options.checkRules ?? (() => {}))
  const matches = matchCollections(current, file)
  const extras = current.filter((c) => !c.system && ![...matches.values()].includes(c))
  const targets = (entry: SchemaCollection) =>
    entry.fields.filter((f) => f.type === 'relation').map((f) => String(f.collection))

  // Renames first: the relation fields of the file name their targets by their new names.
  let pending = file.collections.filter((e) => matches.has(e) && matches.get(e)!.name !== e.name)
  while (pending.length > 0) {
    const free = pending.filter(
      (e) => !planner.world.some((c) => c.name.toLowerCase() === e.name.toLowerCase()),
    )
    if (free.length === 0) {
      const entry = pending[0]!
      const from = matches.get(entry)!.name
      throw new BadRequestError(
        from.toLowerCase() === entry.name.toLowerCase()
          ? `Collection ${from} cannot be renamed to ${entry.name}: names differing only in case are the same name.`
          : `Collection ${from} cannot be renamed to ${entry.name} while another collection has that name; rename in two imports.`,
      )
    }
    for (const entry of free) {
      const from = matches.get(entry)!.name
      planner.run({
        action: 'update',
        collection: from,
        input: { name: entry.name },
        done: `Renamed collection ${from} to ${entry.name}.`,
      })
    }
    pending = pending.filter((e) => !free.includes(e))
  }

  // New collections start without their relation fields, so relations between them (even cycles) resolve.
  const inputs = new Map(file.collections.map((e) => [e, resolveInput(e, matches.get(e))]))
  const isViewEntry = (entry: SchemaCollection) => entry.type === 'view'
  for (const entry of file.collections.filter((e) => !matches.has(e) && !isViewEntry(e))) {
    const input = inputs.get(entry)!
    const fields = input.fields as FileField[]
    const plain = fields.filter((f) => f.type !== 'relation')
    if (plain.length === fields.length) {
      planner.run({
        action: 'create',
        collection: entry.name,
        input,
        done: `Created collection ${entry.name}.`,
      })
      continue
    }
    const plainNames = new Set(plain.map((f) => f.name))
    const indexes = (input.indexes as FileIndex[]).filter((i) => i.fields.every((n) => plainNames.has(n)))
    planner.run({
      action: 'create',
      collection: entry.name,
      input: {
        id: input.id,
        name: input.name,
        type: input.type,
        fields: plain,
        indexes,
        options: input.options,
        search: input.search,
      },
      done: `Created collection ${entry.name} (relation fields and rules follow).`,
    })
  }
  for (const entry of dependencyOrder(
    file.collections.filter((e) => !isViewEntry(e)),
    (e) => e.name,
    targets,
  )) {
    // A collection's id never changes; one matched by name or fields keeps the database's id.
    const { id: _fileId, ...input } = inputs.get(entry)!
    planner.run({
      action: 'update',
      collection: entry.name,
      input,
      done: `Updated collection ${entry.name}.`,
    })
  }
  // Views last: their queries read the other collections as the file leaves them, and other views.
  const fileNames = file.collections.map((e) => e.name)
  const views = file.collections.filter(isViewEntry)
  for (const entry of dependencyOrder(
    views,
    (e) => e.name,
    (e) => viewSources(e.viewQuery ?? '', fileNames),
  )) {
    const { id: _fileId, ...input } = inputs.get(entry)!
    if (matches.has(entry))
      planner.run({ action: 'update', collection: entry.name, input, done: `Updated view ${entry.name}.` })
    else
      planner.run({
        action: 'create',
        collection: entry.name,
        input: inputs.get(entry)!,
        done: `Created view ${entry.name}.`,
      })
  }

  if (options.deleteMissing) {
    const relations = (c: CollectionDefinition) =>
      c.fields.filter((f) => f.type === 'relation').map((f) => f.collection!)
    const names = current.map((c) => c.name)
    // Views go before the collections they read, as relations' owners go before their targets.
    const readers = (c: CollectionDefinition) =>
      isView(c) ? viewSources(c.viewQuery ?? '', names) : relations(c)
    const doomed = dependencyOrder(extras, (c) => c.name, readers).reverse()
    for (const [index, victim] of doomed.entries()) {
      const later = new Set(doomed.slice(index + 1).map((c) => c.name))
      // A cycle among deleted collections: each refuses to go while the other points at it.
      for (const user of planner.world.filter((c) => later.has(c.name) && relations(c).includes(victim.name)))
        planner.run({
          action: 'update',
          collection: user.name,
          input: {
            fields: user.fields.filter(
              (f) => !f.system && !(f.type === 'relation' && f.collection === victim.name),
            ),
          },
          done: `Removed the relations of ${user.name} to ${victim.name}, which is deleted next.`,
        })
      planner.run({ action: 'delete', collection: victim.name, done: `Deleted collection ${victim.name}.` })
    }
  }

  const changes: CollectionChange[] = []
  for (const entry of file.collections) {
    const before = matches.get(entry)
    const after = planner.world.find((c) => c.name === entry.name)!
    const details = diffDefinitions(before ?? null, after)
    if (!before) changes.push({ kind: 'create', name: entry.name, details })
    else if (before.name !== entry.name || details.length > 0)
      changes.push({
        kind: 'update',
        name: entry.name,
        ...(before.name !== entry.name ? { previousName: before.name } : {}),
        details,
      })
  }
  for (const extra of extras)
    changes.push({ kind: options.deleteMissing ? 'delete' : 'untracked', name: extra.name, details: [] })
  return { steps: planner.steps, changes }
}

/** Matches by collection id, then by name, then by shared field ids (ids of new collections are not kept across databases). */
function matchCollections(current: readonly CollectionDefinition[], file: SchemaFile) {
  const matches = new Map<SchemaCollection, CollectionDefinition>()
  const free = () => current.filter((c) => !c.system && ![...matches.values()].includes(c))
  const pass = (test: (entry: SchemaCollection, c: CollectionDefinition) => boolean) => {
    for (const entry of file.collections) {
      if (matches.has(entry)) continue
      const found = free().find((c) => test(entry, c))
      if (found) matches.set(entry, found)
    }
  }
  pass((e, c) => e.id === c.id)
  pass((e, c) => e.name.toLowerCase() === c.name.toLowerCase())
  pass((e, c) => e.type === c.type && e.fields.some((f) => c.fields.some((g) => !g.system && g.id === f.id)))
  for (const [entry, found] of matches)
    if (entry.type !== found.type)
      throw new BadRequestError(
        `Collection ${found.name} is "${found.type}" in the database and "${entry.type}" in the file; the type of a collection cannot change.`,
      )
  return matches
}

/** The complete definition to send, with the ids of fields and indexes settled so every step agrees on them. */
function resolveInput(entry: SchemaCollection, existing: CollectionDefinition | undefined): Json {
  const known = existing?.fields.filter((f) => !f.system) ?? []
  const named = new Set(entry.fields.map((f) => f.id))
  const fields = entry.fields.map((field): FileField => {
    if (known.some((f) => f.id === field.id)) return field
    // The same field created separately in two databases: keep its data rather than drop and re-add it.
    const twin = known.find((f) => f.name === field.name && f.type === field.type && !named.has(f.id))
    if (twin) return { ...field, id: twin.id }
    return typeof field.id === 'string' ? field : { ...field, id: newStableId('f') }
  })
  const knownIndexes = existing?.indexes.filter((i) => !isBuiltIn(i.id)) ?? []
  const indexes = entry.indexes.map((index): FileIndex => {
    if (knownIndexes.some((i) => i.id === index.id)) return index
    const twin = knownIndexes.find((i) => indexLabel(i) === indexLabel(index))
    return { ...index, id: twin?.id ?? (typeof index.id === 'string' ? index.id : newStableId('i')) }
  })
  const { id, name, type, listRule, viewRule, createRule, updateRule, deleteRule, options, viewQuery } = entry
  // Left out of the file, search is off: the file describes the whole collection.
  const search = (entry.search ?? null) as Json | null
  // A view listed without fields leaves them to the database, which infers them from its query.
  const isInferred = type === 'view' && fields.length === 0
  return {
    id,
    name,
    type,
    ...(isInferred ? {} : { fields }),
    indexes,
    listRule,
    viewRule,
    createRule,
    updateRule,
    deleteRule,
    ...(viewQuery === undefined ? {} : { viewQuery }),
    options,
    // A view has no search; one given anyway reaches the definition's check and is refused.
    ...(type === 'view' && search === null ? {} : { search }),
  }
}

/** Targets before the collections pointing at them, as far as cycles allow. */
function dependencyOrder<T>(
  items: readonly T[],
  key: (item: T) => string,
  targets: (item: T) => string[],
): T[] {
  const byKey = new Map(items.map((item) => [key(item), item]))
  const seen = new Set<string>()
  const order: T[] = []
  const visit = (item: T) => {
    if (seen.has(key(item))) return
    seen.add(key(item))
    for (const target of targets(item)) if (byKey.has(target)) visit(byKey.get(target)!)
    order.push(item)
  }
  items.forEach(visit)
  return order
}

/** Applies steps to an in-memory copy of the collections the way CollectionService does. */
class Planner {
  readonly steps: SchemaStep[] = []
  world: CollectionDefinition[]
  readonly #now = new Date().toISOString()

  constructor(
    current: readonly CollectionDefinition[],
    private readonly checkRules: RuleChecker,
  ) {
    this.world = structuredClone([...current])
  }

  run(step: SchemaStep): void {
    try {
      const before = this.world
      const after = this.apply(step)
      const changed = after.length !== before.length || after.some((c, i) => !sameDefinition(c, before[i]!))
      if (step.action !== 'update' || changed) this.steps.push(step)
      this.world = after
    } catch (error) {
      throw explainStepError(step, error)
    }
  }

  private apply(step: SchemaStep): CollectionDefinition[] {
    const world = this.world
    // Mirrors CollectionService: a new name is compared case-insensitively with every collection.
    const taken = (name: unknown, current?: string) =>
      typeof name === 'string' &&
      name !== current &&
      world.some((c) => c.name.toLowerCase() === name.toLowerCase())
    if (step.action === 'delete') {
      const users = world.filter(
        (c) =>
          c.name !== step.collection &&
          c.fields.some((f) => f.type === 'relation' && f.collection === step.collection),
      )
      if (users.length > 0)
        throw new BadRequestError(`it is the target of relations in ${users.map((c) => c.name).join(', ')}`)
      const readers = viewsReading(world, step.collection)
      if (readers.length > 0)
        throw new BadRequestError(`it is read by the view ${readers.map((c) => c.name).join(', ')}`)
      const remaining = world.filter((c) => c.name !== step.collection)
      this.checkRules(null, remaining, world)
      return remaining
    }
    const name = step.input.name
    if (taken(name, step.action === 'update' ? step.collection : undefined))
      throw new ValidationError({ name: { code: 'duplicate', message: `a collection named ${name} exists` } })
    let after: CollectionDefinition
    let next: CollectionDefinition[]
    if (step.action === 'create') {
      after = parseNewCollection(step.input, this.environment(world, step.collection))
      next = [...world, after]
    } else {
      const before = world.find((c) => c.name === step.collection)!
      const newName = typeof name === 'string' ? name : step.collection
      after = applyCollectionPatch(before, step.input, this.environment(world, newName, step.collection))
      const retarget = (c: CollectionDefinition) =>
        after.name === before.name
          ? c
          : {
              ...c,
              fields: c.fields.map((f) =>
                f.type === 'relation' && f.collection === before.name ? { ...f, collection: after.name } : f,
              ),
            }
      after = retarget(after)
      next = world.map((c) => (c === before ? after : retarget(c)))
    }
    // A view's fields are known once the database has run its query; the import checks its rules then.
    if (!isView(after)) this.checkRules(after, next, world)
    return next
  }

  private environment(world: CollectionDefinition[], name: string, previous?: string): DefinitionEnvironment {
    const names = new Set(world.map((c) => c.name).filter((n) => n !== previous))
    names.add(name)
    return { collectionExists: (n) => names.has(n), now: this.#now }
  }
}

function sameDefinition(a: CollectionDefinition, b: CollectionDefinition): boolean {
  return canonical({ ...a, updated: '' }) === canonical({ ...b, updated: '' })
}
