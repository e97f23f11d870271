import { type ColumnDefinitionBuilder, type CompiledQuery, type CreateTableBuilder, sql } from 'kysely'
import type { Dialect } from '../db/index.js'
import { fieldKind, storageKind } from './fields/index.js'
import {
  type CollectionDefinition,
  type FieldDefinition,
  hasColumn,
  type IndexDefinition,
  isMultiRelation,
  isMultiValued,
  junctionTableName,
  type OnDelete,
} from './types.js'

/** The hidden column whose value changes on every write; ETags derive from it. */
export const VERSION_COLUMN = '_version'

/**
 * Existing rows get the field's empty value when a column is added, so old and new
 * records read alike (0, '', false, []), not null for some and empty for others.
 */
function withEmptyDefault(dialect: Dialect, field: FieldDefinition) {
  const empty = fieldKind(field.type).emptyValue(field)
  const stored = empty === null ? null : dialect.encode(storageKind(field), empty)
  return (column: ColumnDefinitionBuilder) => (stored === null ? column : column.defaultTo(stored))
}

const sqlOnDelete = (onDelete: OnDelete | undefined) =>
  onDelete === 'cascade' ? 'cascade' : onDelete === 'restrict' ? 'restrict' : 'set null'

export const foreignKeyName = (field: FieldDefinition) => `fk_${field.id}`
/** Index names are unique per schema, so they carry the collection's stable id too. */
export const indexName = (collection: CollectionDefinition, index: IndexDefinition) =>
  `idx_${collection.id}_${index.id}`
export const triggerName = (field: FieldDefinition) => `trg_${field.id}`

/** Statements of one schema change, each compiled with its bound values. */
export type Statements = CompiledQuery[]

function tableBuilder(dialect: Dialect, tableName: string, collection: CollectionDefinition) {
  let table: CreateTableBuilder<string, string> = dialect.db.schema
    .createTable(tableName)
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn(VERSION_COLUMN, 'text', (c) => c.notNull())
  for (const field of collection.fields) {
    if (field.name === 'id' || !hasColumn(field)) continue
    table = table.addColumn(
      field.name,
      dialect.columnType(storageKind(field)),
      withEmptyDefault(dialect, field),
    )
    if (field.type === 'relation' && field.collection) {
      table = table.addForeignKeyConstraint(
        foreignKeyName(field),
        [field.name],
        field.collection,
        ['id'],
        (fk) => fk.onDelete(sqlOnDelete(field.onDelete)),
      )
    }
  }
  return table
}

export function createTable(
  dialect: Dialect,
  collection: CollectionDefinition,
  tableName = collection.name,
): Statements {
  return [tableBuilder(dialect, tableName, collection).compile()]
}

const textLike = new Set(['text', 'email', 'url', 'editor', 'select'])

export function createIndex(
  dialect: Dialect,
  collection: CollectionDefinition,
  index: IndexDefinition,
): CompiledQuery {
  let builder = dialect.db.schema
    .createIndex(indexName(collection, index))
    .on(collection.name)
    .columns(index.fields)
  if (index.unique) {
    builder = builder.unique()
    // An empty optional text is "no value": many records may leave a unique field empty.
    const field = collection.fields.find((f) => f.name === index.fields[0])
    if (index.fields.length === 1 && field && textLike.has(field.type) && !isMultiValued(field))
      builder = builder.where(sql.ref(field.name), '<>', '')
  }
  return builder.compile()
}

export function dropIndex(
  dialect: Dialect,
  collection: CollectionDefinition,
  index: IndexDefinition,
): CompiledQuery {
  return dialect.db.schema.dropIndex(indexName(collection, index)).ifExists().compile()
}

export function createJunction(
  dialect: Dialect,
  owner: string,
  field: FieldDefinition,
  tableName = junctionTableName(field),
): Statements {
  const db = dialect.db
  return [
    db.schema
      .createTable(tableName)
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${tableName}_pk`, ['source', 'target'])
      .addForeignKeyConstraint(`${tableName}_source`, ['source'], owner, ['id'], (fk) =>
        fk.onDelete('cascade'),
      )
      // For an array, "set-null" removes the id from it; "cascade" also deletes the owner (cascadeTrigger).
      .addForeignKeyConstraint(`${tableName}_target`, ['target'], field.collection!, ['id'], (fk) =>
        fk.onDelete(field.onDelete === 'restrict' ? 'restrict' : 'cascade'),
      )
      .compile(),
    db.schema.createIndex(`${tableName}_by_target`).on(tableName).column('target').compile(),
  ]
}

export function dropTable(dialect: Dialect, name: string): CompiledQuery {
  return dialect.db.schema.dropTable(name).ifExists().compile()
}

export function cascadeTriggers(
  dialect: Dialect,
  owner: CollectionDefinition,
  field: FieldDefinition,
  action: 'create' | 'drop',
): Statements {
  if (!isMultiRelation(field) || field.onDelete !== 'cascade') return []
  const statements = dialect.cascadeTrigger({
    trigger: triggerName(field),
    target: field.collection!,
    owner: owner.name,
    junction: junctionTableName(field),
  })
  return statements[action].map((statement) => statement.compile(dialect.db))
}

export function addColumn(
  dialect: Dialect,
  collection: CollectionDefinition,
  field: FieldDefinition,
): Statements {
  const db = dialect.db
  if (field.type !== 'relation') {
    return [
      db.schema
        .alterTable(collection.name)
        .addColumn(field.name, dialect.columnType(storageKind(field)), withEmptyDefault(dialect, field))
        .compile(),
    ]
  }
  if (!dialect.supports.alterConstrainedColumns) {
    // SQLite adds a foreign key only as part of the column; table-level constraints need a rebuild.
    return [
      db.schema
        .alterTable(collection.name)
        .addColumn(field.name, dialect.columnType(storageKind(field)), (c) =>
          c.references(`${field.collection}.id`).onDelete(sqlOnDelete(field.onDelete)),
        )
        .compile(),
    ]
  }
  return [
    db.schema
      .alterTable(collection.name)
      .addColumn(field.name, dialect.columnType(storageKind(field)))
      .compile(),
    db.schema
      .alterTable(collection.name)
      .addForeignKeyConstraint(foreignKeyName(field), [field.name], field.collection!, ['id'], (fk) =>
        fk.onDelete(sqlOnDelete(field.onDelete)),
      )
      .compile(),
  ]
}

export function changeForeignKey(
  dialect: Dialect,
  collection: CollectionDefinition,
  field: FieldDefinition,
): Statements {
  const table = dialect.db.schema.alterTable(collection.name)
  return [
    table.dropConstraint(foreignKeyName(field)).ifExists().compile(),
    table
      .addForeignKeyConstraint(foreignKeyName(field), [field.name], field.collection!, ['id'], (fk) =>
        fk.onDelete(sqlOnDelete(field.onDelete)),
      )
      .compile(),
  ]
}

export function renameColumn(dialect: Dialect, table: string, from: string, to: string): CompiledQuery {
  return dialect.db.schema.alterTable(table).renameColumn(from, to).compile()
}

export function dropColumn(dialect: Dialect, table: string, column: string): CompiledQuery {
  return dialect.db.schema.alterTable(table).dropColumn(column).compile()
}

export function renameTable(dialect: Dialect, from: string, to: string): CompiledQuery {
  return dialect.db.schema.alterTable(from).renameTo(to).compile()
}

/** Copies the rows of `from` into `to`, column by column as `pairs` maps them. */
export function copyRows(
  dialect: Dialect,
  from: string,
  to: string,
  pairs: Array<[string, string]>,
): CompiledQuery {
  const targets = sql.join(pairs.map(([, target]) => sql.id(target)))
  const sources = sql.join(pairs.map(([source]) => sql.id(source)))
  return sql`insert into ${sql.table(to)} (${targets}) select ${sources} from ${sql.table(from)}`.compile(
    dialect.db,
  )
}

/**
 * A view collection's SQL view. DDL cannot take bound values, so the query goes in as
 * written: it passed checkViewQuery (one SELECT, reading collections only) first.
 */
export function createView(dialect: Dialect, collection: CollectionDefinition): CompiledQuery {
  return sql`create view ${sql.table(collection.name)} as ${sql.raw(collection.viewQuery!)}`.compile(
    dialect.db,
  )
}

export function dropView(dialect: Dialect, name: string): CompiledQuery {
  return dialect.db.schema.dropView(name).ifExists().compile()
}
