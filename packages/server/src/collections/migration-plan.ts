import { randomBytes } from 'node:crypto'
import type { Dialect } from '../db/index.js'
import {
  addColumn,
  cascadeTriggers,
  changeForeignKey,
  copyRows,
  createIndex,
  createJunction,
  createTable,
  createView,
  dropColumn,
  dropIndex,
  dropTable,
  dropView,
  renameColumn,
  renameTable,
  type Statements,
  VERSION_COLUMN,
} from './ddl.js'
import { createSearch, dropSearch, isSearchRebuilt } from './search-plan.js'
import {
  type CollectionDefinition,
  type FieldDefinition,
  hasColumn,
  type IndexDefinition,
  isMultiRelation,
  isView,
  junctionTableName,
} from './types.js'

const temporaryName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`

/**
 * The statements that take the database from `before` to `after` (either may be
 * null: create or drop). `world` is every collection as it is once the change is
 * done; it is needed because cascade triggers name other collections' tables.
 * The down migration is the same function with the arguments swapped.
 */
export function planChange(
  dialect: Dialect,
  before: CollectionDefinition | null,
  after: CollectionDefinition | null,
  world: CollectionDefinition[],
): Statements {
  if ((before && isView(before)) || (after && isView(after))) return planView(dialect, before, after)
  if (!before && after) return planCreate(dialect, after)
  if (before && !after) return planDrop(dialect, before)
  if (before && after) return planUpdate(dialect, before, after, world)
  return []
}

/** A view holds no data: any change to it is a drop and a create. */
function planView(
  dialect: Dialect,
  before: CollectionDefinition | null,
  after: CollectionDefinition | null,
): Statements {
  if (before && after && before.name === after.name && before.viewQuery === after.viewQuery) return []
  return [...(before ? [dropView(dialect, before.name)] : []), ...(after ? [createView(dialect, after)] : [])]
}

function planCreate(dialect: Dialect, collection: CollectionDefinition): Statements {
  const statements = createTable(dialect, collection)
  for (const field of collection.fields.filter(isMultiRelation)) {
    statements.push(
      ...createJunction(dialect, collection.name, field),
      ...cascadeTriggers(dialect, collection, field, 'create'),
    )
  }
  for (const index of collection.indexes) statements.push(createIndex(dialect, collection, index))
  statements.push(...createSearch(dialect, collection))
  return statements
}

function planDrop(dialect: Dialect, collection: CollectionDefinition): Statements {
  const statements: Statements = dropSearch(dialect, collection)
  for (const field of collection.fields.filter(isMultiRelation)) {
    statements.push(
      ...cascadeTriggers(dialect, collection, field, 'drop'),
      dropTable(dialect, junctionTableName(field)),
    )
  }
  statements.push(dropTable(dialect, collection.name))
  return statements
}

function sameIndex(
  a: IndexDefinition,
  b: IndexDefinition,
  before: CollectionDefinition,
  after: CollectionDefinition,
): boolean {
  const ids = (index: IndexDefinition, c: CollectionDefinition) =>
    index.fields.map((name) => c.fields.find((f) => f.name === name)?.id).join(',')
  return Boolean(a.unique) === Boolean(b.unique) && ids(a, before) === ids(b, after)
}

/** Triggers of every cascading multi relation that names this collection's table, as owner or target. */
function triggersTouching(
  world: CollectionDefinition[],
  name: string,
): Array<[CollectionDefinition, FieldDefinition]> {
  const pairs: Array<[CollectionDefinition, FieldDefinition]> = []
  for (const owner of world) {
    for (const field of owner.fields) {
      if (
        isMultiRelation(field) &&
        field.onDelete === 'cascade' &&
        (owner.name === name || field.collection === name)
      )
        pairs.push([owner, field])
    }
  }
  return pairs
}

function planUpdate(
  dialect: Dialect,
  before: CollectionDefinition,
  after: CollectionDefinition,
  world: CollectionDefinition[],
): Statements {
  const statements: Statements = []
  const beforeFields = new Map(before.fields.map((f) => [f.id, f]))
  const afterFields = new Map(after.fields.map((f) => [f.id, f]))
  const removed = before.fields.filter((f) => !afterFields.has(f.id))
  const added = after.fields.filter((f) => !beforeFields.has(f.id))
  const kept = after.fields
    .filter((f) => beforeFields.has(f.id))
    .map((f) => [beforeFields.get(f.id)!, f] as const)
  const foreignKeyChanged = kept.filter(
    ([old, now]) => now.type === 'relation' && hasColumn(now) && old.onDelete !== now.onDelete,
  )
  const junctionChanged = kept.filter(([old, now]) => isMultiRelation(now) && old.onDelete !== now.onDelete)
  const renamed = before.name !== after.name
  // SQLite cannot drop or alter a column that carries a foreign key: the table is rebuilt instead.
  const rebuild =
    !dialect.supports.alterConstrainedColumns &&
    (removed.some((f) => f.type === 'relation' && hasColumn(f)) || foreignKeyChanged.length > 0)

  const searchRebuilt = isSearchRebuilt(before, after, rebuild)
  if (searchRebuilt) statements.push(...dropSearch(dialect, before))
  const touching = renamed ? triggersTouching(world, after.name) : []
  for (const [owner, field] of touching) statements.push(...cascadeTriggers(dialect, owner, field, 'drop'))
  if (renamed) statements.push(renameTable(dialect, before.name, after.name))

  const keptIndexes = after.indexes.filter((index) => {
    const old = before.indexes.find((i) => i.id === index.id)
    return old !== undefined && sameIndex(old, index, before, after) && !rebuild
  })
  for (const index of before.indexes)
    if (!keptIndexes.some((k) => k.id === index.id)) statements.push(dropIndex(dialect, before, index))

  for (const field of removed.filter(isMultiRelation)) {
    statements.push(
      ...cascadeTriggers(dialect, before, field, 'drop'),
      dropTable(dialect, junctionTableName(field)),
    )
  }
  for (const field of added.filter(isMultiRelation)) {
    statements.push(
      ...createJunction(dialect, after.name, field),
      ...cascadeTriggers(dialect, after, field, 'create'),
    )
  }
  for (const [old, now] of junctionChanged) {
    const temporary = temporaryName(`_rel_${now.id}`)
    statements.push(
      ...cascadeTriggers(dialect, before, old, 'drop'),
      ...createJunction(dialect, after.name, now, temporary),
      copyRows(dialect, junctionTableName(old), temporary, [
        ['source', 'source'],
        ['target', 'target'],
        ['position', 'position'],
      ]),
      dropTable(dialect, junctionTableName(old)),
      renameTable(dialect, temporary, junctionTableName(now)),
      ...cascadeTriggers(dialect, after, now, 'create'),
    )
  }

  if (rebuild) {
    statements.push(...rebuildTable(dialect, after, kept, renamed ? [] : world))
  } else {
    for (const [old, now] of kept) {
      if (hasColumn(now) && old.name !== now.name)
        statements.push(renameColumn(dialect, after.name, old.name, now.name))
    }
    for (const field of removed.filter(hasColumn))
      statements.push(dropColumn(dialect, after.name, field.name))
    for (const field of added.filter(hasColumn)) statements.push(...addColumn(dialect, after, field))
    for (const [, now] of foreignKeyChanged) statements.push(...changeForeignKey(dialect, after, now))
  }

  for (const index of after.indexes)
    if (!keptIndexes.some((k) => k.id === index.id)) statements.push(createIndex(dialect, after, index))
  for (const [owner, field] of touching) statements.push(...cascadeTriggers(dialect, owner, field, 'create'))
  if (searchRebuilt) statements.push(...createSearch(dialect, after))
  return statements
}

/**
 * SQLite's way to change constrained columns: a new table, the rows copied, the old one
 * replaced. `world` is empty when the caller already recreates the triggers on this table.
 */
function rebuildTable(
  dialect: Dialect,
  after: CollectionDefinition,
  kept: ReadonlyArray<readonly [FieldDefinition, FieldDefinition]>,
  world: CollectionDefinition[],
): Statements {
  const temporary = temporaryName('_rebuild')
  const pairs: Array<[string, string]> = [
    ['id', 'id'],
    [VERSION_COLUMN, VERSION_COLUMN],
    ...kept
      .filter(([, now]) => hasColumn(now) && now.name !== 'id')
      .map(([old, now]) => [old.name, now.name] as [string, string]),
  ]
  const targeting = triggersTouching(world, after.name).filter(([, field]) => field.collection === after.name)
  return [
    ...createTable(dialect, after, temporary),
    copyRows(dialect, after.name, temporary, pairs),
    dropTable(dialect, after.name),
    renameTable(dialect, temporary, after.name),
    // Dropping the old table took the triggers that were attached to it.
    ...targeting.flatMap(([owner, field]) => [
      ...cascadeTriggers(dialect, owner, field, 'drop'),
      ...cascadeTriggers(dialect, owner, field, 'create'),
    ]),
  ]
}
