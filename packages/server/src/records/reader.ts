import { CompiledQuery, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely'
import {
  type CollectionDefinition,
  type CollectionRegistry,
  hasColumn,
  isMultiRelation,
  isView,
  junctionTableName,
  VERSION_COLUMN,
} from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import type { Caller, RecordOperation } from '../identity/index.js'
import { compileFilter, compileSort } from '../query/index.js'
import { type Access, authorize, keyReach } from '../rules/index.js'
import { chunksOf } from './id-chunks.js'
import { serializeRecord } from './serialize.js'
import type { RecordData } from './types.js'

export const ALIAS = 'r'

/** The columns a record is read from: its fields' and, but for a view, its version. */
export function recordColumns(collection: CollectionDefinition): string[] {
  // A view has no version column: its records' ETags come from their content (serialize.ts).
  const columns = isView(collection) ? ['id'] : ['id', VERSION_COLUMN]
  for (const field of collection.fields) if (field.name !== 'id' && hasColumn(field)) columns.push(field.name)
  return columns
}

/** A stored row with its version, and the record as the caller sees it. */
export interface LoadedRecord {
  row: Record<string, unknown>
  record: RecordData
}

/** The read side: selects with rules applied, multi relations and expand. */
export class RecordReader {
  readonly #byIdSql = new WeakMap<CollectionDefinition, string>()
  readonly #selects = new WeakMap<CollectionDefinition, SelectQueryBuilder<any, any, any>>()
  constructor(
    readonly dialect: Dialect,
    readonly registry: CollectionRegistry,
  ) {}

  filterContext() {
    return { dialect: this.dialect, alias: ALIAS, collections: (name: string) => this.registry.get(name) }
  }

  access(caller: Caller, collection: CollectionDefinition, operation: RecordOperation, request = {}): Access {
    return authorize(caller, collection, operation, this.filterContext(), request)
  }

  /** The columns of a record, from the table under the alias the rules compile against. */
  select(db: Kysely<any>, collection: CollectionDefinition): SelectQueryBuilder<any, any, any> {
    // Builders are immutable, so the one outside transactions is made once per definition.
    if (db !== this.dialect.db) return this.buildSelect(db, collection)
    let select = this.#selects.get(collection)
    if (!select) {
      select = this.buildSelect(db, collection)
      this.#selects.set(collection, select)
    }
    return select
  }

  private buildSelect(db: Kysely<any>, collection: CollectionDefinition) {
    const columns = recordColumns(collection).map((column) => `${ALIAS}.${column}`)
    return db.selectFrom(`${collection.name} as ${ALIAS}`).select(columns)
  }

  /** One record by id, if the condition (a rule) lets the caller see it. */
  async findRow(
    db: Kysely<any>,
    collection: CollectionDefinition,
    id: string,
    condition?: RawBuilder<SqlBool>,
  ): Promise<Record<string, unknown> | undefined> {
    if (condition)
      return this.select(db, collection).where(`${ALIAS}.id`, '=', id).where(condition).executeTakeFirst()
    // The unconditioned read by id is the hottest query: its SQL is built once per definition.
    let byId = this.#byIdSql.get(collection)
    if (!byId) {
      byId = this.select(db, collection).where(`${ALIAS}.id`, '=', '').compile().sql
      this.#byIdSql.set(collection, byId)
    }
    const result = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(byId, [id]))
    return result.rows[0]
  }

  /** One record by id as the caller sees it, with its row (for the version), if the condition allows. */
  async load(
    db: Kysely<any>,
    collection: CollectionDefinition,
    id: string,
    caller: Caller,
    condition?: RawBuilder<SqlBool>,
  ): Promise<LoadedRecord | undefined> {
    const row = await this.findRow(db, collection, id.toLowerCase(), condition)
    return row ? this.present(db, collection, row, caller) : undefined
  }

  /** A row already in hand (as an insert returned it) as the caller sees it. */
  async present(
    db: Kysely<any>,
    collection: CollectionDefinition,
    row: Record<string, unknown>,
    caller: Caller,
  ): Promise<LoadedRecord> {
    const [record] = await this.toRecords(db, collection, [row], caller)
    return { row, record: record! }
  }

  /**
   * The row an update or delete is decided on (rules, If-Match), locked until the
   * transaction ends where writers run side by side, so no other write can change or
   * remove it between the check and the write.
   */
  findRowForWrite(
    trx: Kysely<any>,
    collection: CollectionDefinition,
    id: string,
    condition?: RawBuilder<SqlBool>,
  ): Promise<Record<string, unknown> | undefined> {
    let query = this.select(trx, collection).where(`${ALIAS}.id`, '=', id)
    if (condition) query = query.where(condition)
    if (this.dialect.supports.rowLocks) query = query.forUpdate(ALIAS)
    return query.executeTakeFirst()
  }

  /** What a caller's own filter and sort compile against: guarded unless a superuser, within an API key's reach. */
  callerContext(caller: Caller, collection: CollectionDefinition, query: Record<string, unknown>) {
    return {
      collection,
      canSeeHidden: caller.isSuperuser,
      reachable: keyReach(caller),
      now: new Date(),
      request: { auth: caller.auth, body: {}, query },
      // Last, as in rules/access.ts: a property added after a spread is slow on Node 20.
      ...this.filterContext(),
    }
  }

  compileFilter(
    caller: Caller,
    collection: CollectionDefinition,
    filter: string,
    query: Record<string, unknown>,
  ): RawBuilder<SqlBool> {
    return compileFilter(filter, this.callerContext(caller, collection, query))
  }

  orderBy(
    query: SelectQueryBuilder<any, any, any>,
    collection: CollectionDefinition,
    sort: string,
    caller: Caller,
  ) {
    const items = compileSort(sort, this.callerContext(caller, collection, {}))
    let ordered = query
    for (const item of items) ordered = ordered.orderBy(item.expression, item.direction)
    return ordered
  }

  /** Rows as records: multi relations loaded in one query per field, then serialised. */
  async toRecords(
    db: Kysely<any>,
    collection: CollectionDefinition,
    rows: Record<string, unknown>[],
    caller: Caller,
  ): Promise<RecordData[]> {
    const multi = await this.loadMultiRelations(
      db,
      collection,
      rows.map((r) => r.id as string),
    )
    return rows.map((row) =>
      serializeRecord(this.dialect, collection, row, caller, multi.get(row.id as string)),
    )
  }

  private async loadMultiRelations(db: Kysely<any>, collection: CollectionDefinition, ids: string[]) {
    const byRecord = new Map<string, Map<string, string[]>>()
    const fields = collection.fields.filter(isMultiRelation)
    if (fields.length === 0 || ids.length === 0) return byRecord
    for (const field of fields)
      for (const chunk of chunksOf(ids)) {
        const links = await db
          .selectFrom(junctionTableName(field))
          .select(['source', 'target'])
          .where('source', 'in', chunk)
          .orderBy('source')
          .orderBy('position')
          .execute()
        for (const link of links) {
          let perField = byRecord.get(link.source)
          if (!perField) {
            perField = new Map()
            byRecord.set(link.source, perField)
          }
          const list = perField.get(field.id) ?? []
          list.push(link.target)
          perField.set(field.id, list)
        }
      }
    return byRecord
  }
}
