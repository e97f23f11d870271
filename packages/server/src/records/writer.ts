import { type ExpressionBuilder, type Kysely, sql } from 'kysely'
import {
  type CollectionDefinition,
  type FieldDefinition,
  hasColumn,
  indexName,
  isMultiRelation,
  junctionTableName,
  storageKind,
  VERSION_COLUMN,
} from '../collections/index.js'
import { newId, randomTag, randomToken } from '../crypto/index.js'
import { type Dialect, StatementShapes } from '../db/index.js'
import { type FieldErrors, ValidationError } from '../errors/index.js'
import { recordColumns } from './reader.js'
import type { CleanBody } from './validator.js'

/** A new random version per write; the ETag derives from it, so it never repeats for a record. */
export function newVersion(): string {
  return randomTag(9)
}

/** The write side: rows and junction rows from a validated body. Runs inside the caller's transaction. */
export class RecordWriter {
  readonly #statements = new WeakMap<CollectionDefinition, StatementShapes>()

  constructor(private readonly dialect: Dialect) {}

  /** Inserts the record and answers its row as stored, in the columns a read gives. */
  async insert(
    db: Kysely<any>,
    collection: CollectionDefinition,
    body: CleanBody,
  ): Promise<Record<string, unknown>> {
    const now = new Date().toISOString()
    const id = body.id ?? newId()
    const row: Record<string, unknown> = { id, [VERSION_COLUMN]: newVersion() }
    for (const field of collection.fields) {
      if (field.type === 'autodate' && field.onCreate) row[field.name] = now
    }
    this.encodeInto(collection, body.values, row)
    if (collection.type === 'auth') {
      row.password = body.passwordHash
      row.tokenKey = randomToken()
      row.verified ??= false
      row.emailVisibility ??= false
    }
    for (const column of Object.keys(row)) if (row[column] === undefined) delete row[column]
    const links = relationLinks(collection, body.values)
    const insert = (guarded: RelationLink[]) =>
      this.run(collection, () =>
        db.executeQuery<Record<string, unknown>>(this.#insertStatement(db, collection, row, guarded)),
      )
    let inserted = await insert(links)
    if (inserted.rows.length === 0) {
      // The guard found a dangling relation: name it. When it has appeared meanwhile, the
      // foreign keys judge the plain insert.
      await this.checkRelations(db, collection, body.values)
      inserted = await insert([])
    }
    await this.writeMultiRelations(db, collection, id, body.values)
    return inserted.rows[0]!
  }

  /** With relations, the insert inserts only where every related record exists (`linkedRecordsExist`). */
  #insertStatement(
    db: Kysely<any>,
    collection: CollectionDefinition,
    row: Record<string, unknown>,
    links: RelationLink[],
  ) {
    const columns = Object.keys(row)
    const shape = `insert:${columns.join()}:${links.map((link) => `${link.field.name}=${link.ids.length}`).join()}`
    const values = [...Object.values(row), ...links.flatMap((link) => link.ids)]
    return this.#shapesOf(collection).compile(shape, values, () => {
      const returning = recordColumns(collection)
      if (links.length === 0) return db.insertInto(collection.name).values(row).returning(returning).compile()
      const candidate = db
        .selectNoFrom(columns.map((column) => sql.val(row[column]).as(column)))
        .where((eb) => linkedRecordsExist(eb, links))
      return db
        .insertInto(collection.name)
        .columns(columns)
        .expression(candidate)
        .returning(returning)
        .compile()
    })
  }

  /** Statements of a definition's writes, built once per shape (a new definition starts afresh). */
  #shapesOf(collection: CollectionDefinition): StatementShapes {
    let shapes = this.#statements.get(collection)
    if (!shapes) {
      shapes = new StatementShapes()
      this.#statements.set(collection, shapes)
    }
    return shapes
  }

  async update(
    db: Kysely<any>,
    collection: CollectionDefinition,
    id: string,
    body: CleanBody,
  ): Promise<void> {
    const now = new Date().toISOString()
    const row: Record<string, unknown> = { [VERSION_COLUMN]: newVersion() }
    for (const field of collection.fields) {
      if (field.type === 'autodate' && field.onUpdate) row[field.name] = now
    }
    this.encodeInto(collection, body.values, row)
    if (collection.type === 'auth' && body.passwordHash !== undefined) {
      row.password = body.passwordHash
      // A new password ends every token issued before it.
      row.tokenKey = randomToken()
    }
    const links = relationLinks(collection, body.values)
    const update = (guarded: RelationLink[]) =>
      this.run(collection, () => {
        const query = db.updateTable(collection.name).set(row).where('id', '=', id)
        return (
          guarded.length > 0 ? query.where((eb) => linkedRecordsExist(eb, guarded)) : query
        ).executeTakeFirst()
      })
    const updated = await update(links)
    // The row is locked for this write, so no change means a dangling relation: as for an insert.
    if (links.length > 0 && updated.numUpdatedRows === 0n) {
      await this.checkRelations(db, collection, body.values)
      await update([])
    }
    await this.writeMultiRelations(db, collection, id, body.values)
  }

  async delete(db: Kysely<any>, collection: CollectionDefinition, id: string): Promise<void> {
    await this.run(collection, () => db.deleteFrom(collection.name).where('id', '=', id).execute())
  }

  private encodeInto(
    collection: CollectionDefinition,
    values: Record<string, unknown>,
    row: Record<string, unknown>,
  ) {
    for (const field of collection.fields) {
      if (!hasColumn(field) || !Object.hasOwn(values, field.name)) continue
      row[field.name] = this.dialect.encode(storageKind(field), values[field.name])
    }
  }

  /** A dangling relation is the caller's mistake: a 400 naming each field whose records are missing. */
  private async checkRelations(
    db: Kysely<any>,
    collection: CollectionDefinition,
    values: Record<string, unknown>,
  ) {
    const errors: FieldErrors = {}
    for (const { field, ids } of relationLinks(collection, values)) {
      const lookup = this.#shapesOf(collection).compile(`relation:${field.name}:${ids.length}`, ids, () =>
        db.selectFrom(field.collection!).select('id').where('id', 'in', ids).compile(),
      )
      const found = (await db.executeQuery<{ id: string }>(lookup)).rows
      if (found.length !== ids.length) {
        const missing = ids.filter((id) => !found.some((row) => row.id === id))
        errors[field.name] = {
          code: 'invalid_relation',
          message: `no ${field.collection} record with id ${missing.join(', ')}`,
        }
      }
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  }

  private async writeMultiRelations(
    db: Kysely<any>,
    collection: CollectionDefinition,
    id: string,
    values: Record<string, unknown>,
  ) {
    for (const field of collection.fields.filter(isMultiRelation)) {
      if (!Object.hasOwn(values, field.name)) continue
      const table = junctionTableName(field)
      await db.deleteFrom(table).where('source', '=', id).execute()
      const ids = relationIds(values[field.name])
      if (ids.length > 0)
        await db
          .insertInto(table)
          .values(ids.map((target, position) => ({ source: id, target, position })))
          .execute()
    }
  }

  /** Turns constraint violations into 400s that name the fields. */
  private async run<T>(collection: CollectionDefinition, statement: () => Promise<T>): Promise<T> {
    try {
      return await statement()
    } catch (error) {
      const violation = this.dialect.constraintViolation(error)
      if (!violation) throw error
      if (violation.kind === 'foreign_key')
        throw new ValidationError(
          {
            id: { code: 'in_use', message: 'other records still refer to this record (restricted relation)' },
          },
          'The record is referenced by other records.',
        )
      const fields = uniqueFields(collection, violation.columns, violation.constraint)
      const errors: FieldErrors = {}
      for (const name of fields)
        errors[name] = { code: 'not_unique', message: 'must be unique; another record has this value' }
      throw new ValidationError(errors, 'A unique value is already taken.')
    }
  }
}

function uniqueFields(
  collection: CollectionDefinition,
  columns: string[],
  constraint: string | undefined,
): string[] {
  if (columns.length > 0) return columns
  const index = collection.indexes.find((i) => indexName(collection, i) === constraint)
  return index?.fields ?? ['id']
}

interface RelationLink {
  field: FieldDefinition
  ids: string[]
}

/**
 * Whether every record a write links to exists, as a condition of the write's own statement:
 * checking in a statement of its own would cost a round trip on PostgreSQL. When the write
 * changes nothing, `checkRelations` names the missing records.
 */
function linkedRecordsExist(eb: ExpressionBuilder<any, any>, links: RelationLink[]) {
  return eb.and(
    links.map(({ field, ids }) =>
      eb(
        eb.selectFrom(field.collection!).select(eb.fn.countAll().as('found')).where('id', 'in', ids),
        '=',
        sql.lit(ids.length),
      ),
    ),
  )
}

/** The records a write links to, by relation field; fields set to nothing link to none. */
function relationLinks(collection: CollectionDefinition, values: Record<string, unknown>): RelationLink[] {
  const links: RelationLink[] = []
  for (const field of collection.fields) {
    if (field.type !== 'relation' || !Object.hasOwn(values, field.name)) continue
    const ids = relationIds(values[field.name])
    if (ids.length > 0) links.push({ field, ids })
  }
  return links
}

export function relationIds(value: unknown): string[] {
  if (Array.isArray(value)) return value as string[]
  return typeof value === 'string' && value !== '' ? [value] : []
}
