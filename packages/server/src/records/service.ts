import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { type CollectionDefinition, type CollectionRegistry, isView } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { NotFoundError, PlinthError, ReadOnlyCollectionError } from '../errors/index.js'
import { type Caller, superuser } from '../identity/index.js'
import { type Access, assertMayTry } from '../rules/index.js'
import { CallerRecords } from './caller-records.js'
import { Expander, parseExpand } from './expand.js'
import { applyProjection, parseFieldsParam } from './fields-param.js'
import type { RecordHooks } from './hooks.js'
import type { ListParams } from './list-params.js'
import { ListQueryBuilder } from './list-queries.js'
import { ALIAS, type LoadedRecord, RecordReader } from './reader.js'
import { addHighlights, collectionSearch } from './search.js'
import { etagOf, isReturned, showRecord, versionOf } from './serialize.js'
import type { ChangeListener, ListPage, ReadOptions, RecordData, WriteGuard } from './types.js'
import { ViewQueries } from './view-queries.js'
import { type WriteOptions, WritePipeline, type WriteUnit } from './write-pipeline.js'

/** What hooks receive as `context`, built from the records acting as the write's caller. */
export type HookContextFactory = (records: CallerRecords, tx: Kysely<any>) => Record<string, unknown>

export interface WriteResult {
  record: RecordData
  etag: string
}

/** The operations of a batch, all in the caller's one transaction. */
export interface WriteScope {
  /** The transaction itself, for work that belongs with the records' writes. */
  db: Kysely<any>
  create(collection: string, body: unknown, options?: WriteOptions): Promise<WriteResult>
  update(collection: string, id: string, body: unknown, options?: WriteOptions): Promise<WriteResult>
  delete(collection: string, id: string, options?: WriteOptions): Promise<void>
  /** The same transaction acting as another caller. */
  as(caller: Caller): WriteScope
}

/**
 * Records of any collection: reads with the rules in the WHERE clause, writes in
 * one transaction each (or the caller's, for batches), with change listeners
 * running inside that transaction.
 */
export class RecordService {
  readonly #reader: RecordReader
  readonly #expander: Expander
  readonly #pipeline: WritePipeline
  readonly #listQueries: ListQueryBuilder
  readonly #views: ViewQueries

  constructor(
    private readonly dialect: Dialect,
    private readonly registry: CollectionRegistry,
    options: { log?: Logger } = {},
  ) {
    this.#reader = new RecordReader(dialect, registry)
    this.#expander = new Expander(this.#reader)
    this.#pipeline = new WritePipeline(dialect, registry, this.#reader, options.log)
    this.#views = new ViewQueries(this.#reader)
    this.#listQueries = new ListQueryBuilder(this.#reader)
  }

  /** The record hooks in force; the config loader fills them. */
  get hooks(): RecordHooks {
    return this.#pipeline.hooks
  }

  /**
   * Decides what hooks get as `context`: given the records acting as the write's
   * caller (in the write's transaction for before-hooks) and that transaction.
   */
  setHookContext(factory: HookContextFactory): void {
    this.#pipeline.hookContext = (caller, trx, unit) =>
      factory(new CallerRecords(this, caller, unit ? this.scope(trx, unit, caller) : undefined), trx)
  }

  /**
   * Adds a listener told after every commit that changed records (once per transaction), with
   * the number of the newest outbox event the transaction wrote (0 when none).
   */
  onCommit(listener: (newestEvent: number) => void): void {
    this.#pipeline.commitListeners.push(listener)
  }

  /** Adds a listener that runs inside every record write's transaction. */
  onChange(listener: ChangeListener): void {
    this.#pipeline.listeners.push(listener)
  }

  /** Adds a guard every create and update passes before it is written. */
  guardWrites(guard: WriteGuard): void {
    this.#pipeline.guards.push(guard)
  }

  collection(name: string): CollectionDefinition {
    const collection = this.registry.get(name)
    if (!collection) throw new NotFoundError('collection')
    return collection
  }

  /** A collection whose records may be written: a view's records are rows of its query. */
  writableCollection(name: string): CollectionDefinition {
    const collection = this.collection(name)
    if (isView(collection)) throw new ReadOnlyCollectionError(collection.name)
    return collection
  }

  async list(
    caller: Caller,
    name: string,
    params: ListParams,
    query: Record<string, unknown> = {},
    db: Kysely<any> = this.dialect.db,
  ): Promise<ListPage> {
    const collection = this.collection(name)
    assertMayTry(caller, collection, 'list')
    const search = collectionSearch(collection, params.search)
    const projection = this.projection(
      collection,
      caller,
      params.fields,
      params.highlight ? ['highlight'] : [],
    )
    const queries = this.#listQueries.queries(caller, collection, params, query, search)
    const found = (await db.executeQuery(queries.rows)).rows
    const items = await this.#reader.toRecords(db, collection, found, caller)
    await this.#expander.expand(db, collection, items, params.expand, caller)
    if (search && params.highlight) await addHighlights(db, this.dialect, collection, search, items)
    let totalItems = -1
    if (!params.skipTotal) {
      const count = await db.executeQuery(queries.count)
      totalItems = Number(count.rows[0]?.count ?? 0)
    }
    return {
      items: projection ? items.map((item) => applyProjection(item, projection)) : items,
      page: params.page,
      perPage: params.perPage,
      totalItems,
      totalPages: totalItems < 0 ? -1 : Math.ceil(totalItems / params.perPage),
    }
  }

  async view(
    caller: Caller,
    name: string,
    id: string,
    options: ReadOptions = {},
    query: Record<string, unknown> = {},
    db: Kysely<any> = this.dialect.db,
  ): Promise<WriteResult> {
    const collection = this.collection(name)
    // Before the field list is checked, so a closed collection does not tell its field names.
    assertMayTry(caller, collection, 'view')
    const projection = this.projection(collection, caller, options.fields)
    const row = await this.#views.find(caller, collection, id.toLowerCase(), query, db)
    if (!row) throw new NotFoundError()
    const [record] = await this.#reader.toRecords(db, collection, [row], caller)
    await this.#expander.expand(db, collection, [record!], options.expand, caller)
    return this.result({ row, record: record! }, projection)
  }

  /** The caller's own auth record as the caller sees it; rules do not hide one's own record. */
  async own(caller: Caller): Promise<RecordData> {
    if (!caller.auth) throw new NotFoundError()
    const loaded = await this.#reader.load(
      this.dialect.db,
      caller.auth.collection,
      caller.auth.record.id as string,
      caller,
    )
    if (!loaded) throw new NotFoundError()
    return loaded.record
  }

  async create(
    caller: Caller,
    name: string,
    body: unknown,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const prepared = await this.#pipeline.prepare(
      caller,
      this.writableCollection(name),
      'create',
      body,
      options,
    )
    return this.#pipeline.transaction((trx, unit) => this.createIn(trx, unit, caller, prepared, options))
  }

  async update(
    caller: Caller,
    name: string,
    id: string,
    body: unknown,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const prepared = await this.#pipeline.prepare(
      caller,
      this.writableCollection(name),
      'update',
      body,
      options,
    )
    return this.#pipeline.transaction((trx, unit) => this.updateIn(trx, unit, caller, prepared, id, options))
  }

  async delete(caller: Caller, name: string, id: string, options: WriteOptions = {}): Promise<void> {
    const collection = this.writableCollection(name)
    await this.#pipeline.transaction((trx, unit) =>
      this.#pipeline.delete(trx, unit, caller, collection, id, options),
    )
  }

  /**
   * Runs `work` with create/update/delete in one transaction: all of them apply, or
   * none. Bodies are validated (and passwords hashed) as each call is made; after-hooks
   * run once the whole batch has committed.
   */
  async batch<T>(caller: Caller, work: (scope: WriteScope) => Promise<T>): Promise<T> {
    return this.#pipeline.transaction((trx, unit) => work(this.scope(trx, unit, caller)))
  }

  /** The writes of one transaction, acting as `caller`; hooks use it to write alongside. */
  scope(trx: Kysely<any>, unit: WriteUnit, caller: Caller): WriteScope {
    const pipeline = this.#pipeline
    return {
      db: trx,
      create: async (name, body, options = {}) =>
        this.createIn(
          trx,
          unit,
          caller,
          await pipeline.prepare(caller, this.writableCollection(name), 'create', body, options),
          options,
        ),
      update: async (name, id, body, options = {}) =>
        this.updateIn(
          trx,
          unit,
          caller,
          await pipeline.prepare(caller, this.writableCollection(name), 'update', body, options),
          id,
          options,
        ),
      delete: async (name, id, options = {}) =>
        pipeline.delete(trx, unit, caller, this.writableCollection(name), id, options),
      as: (other) => this.scope(trx, unit, other),
    }
  }

  private async createIn(
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    prepared: Parameters<WritePipeline['create']>[3],
    options: WriteOptions,
  ): Promise<WriteResult> {
    const projection = this.projection(prepared.collection, caller, options.fields)
    const loaded = await this.#pipeline.create(trx, unit, caller, prepared, options)
    await this.#expander.expand(trx, prepared.collection, [loaded.record], options.expand, caller)
    return this.result(loaded, projection)
  }

  private async updateIn(
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    prepared: Parameters<WritePipeline['update']>[3],
    id: string,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const projection = this.projection(prepared.collection, caller, options.fields)
    const loaded = await this.#pipeline.update(trx, unit, caller, prepared, id, options)
    await this.#expander.expand(trx, prepared.collection, [loaded.record], options.expand, caller)
    return this.result(loaded, projection)
  }

  /**
   * Checks a read's `filter`, `fields` and `expand` before any record is read: a realtime
   * subscription is refused when it is made, not when its first event arrives.
   */
  checkReadOptions(
    caller: Caller,
    name: string,
    options: ReadOptions & { filter?: string },
    query = {},
  ): void {
    const collection = this.collection(name)
    this.projection(collection, caller, options.fields)
    if (options.expand) parseExpand(options.expand, collection, this.registry, caller.isSuperuser)
    if (options.filter) this.#reader.compileFilter(caller, collection, options.filter, query)
  }

  /**
   * Records taken from events, shown as a read by the caller would show them: fields the
   * caller may see (never hidden ones), the email only where visible, `expand` (related
   * records read now, each under its view rule) and `fields`.
   */
  async present(
    caller: Caller,
    collection: CollectionDefinition,
    records: RecordData[],
    options: ReadOptions,
  ): Promise<RecordData[]> {
    const shown = records.map((record) => showRecord(collection, record, caller))
    await this.#expander.expand(this.dialect.db, collection, shown, options.expand, caller)
    const projection = this.projection(collection, caller, options.fields)
    return projection ? shown.map((record) => applyProjection(record, projection)) : shown
  }

  /**
   * Rows by id as rules read them in memory: every field, hidden ones included, in one
   * query per collection (and one per multi relation field) however many ids there are.
   */
  async rowsForRules(collection: CollectionDefinition, ids: string[]): Promise<RecordData[]> {
    if (ids.length === 0) return []
    const db = this.dialect.db
    const rows = await this.#reader.select(db, collection).where(`${ALIAS}.id`, 'in', ids).execute()
    return this.#reader.toRecords(db, collection, rows, superuser)
  }

  /**
   * Which of `ids` the caller may read now by the list or view rule and its own filter,
   * in one query however many ids there are. A rule closed to the caller gives none.
   */
  async readableIds(
    caller: Caller,
    collection: CollectionDefinition,
    operation: 'list' | 'view',
    ids: string[],
    filter: string,
    query: Record<string, unknown>,
  ): Promise<Set<string>> {
    let access: Access
    try {
      access = this.#reader.access(caller, collection, operation, { query })
    } catch (error) {
      // A rule closed to the caller (or outside its API key) is an answer: nothing is readable.
      if (error instanceof PlinthError) return new Set()
      throw error
    }
    let select = this.dialect.db.selectFrom(`${collection.name} as ${ALIAS}`).select(`${ALIAS}.id`)
    select = select.where(`${ALIAS}.id`, 'in', ids)
    if (access.kind === 'where') select = select.where(access.condition)
    if (filter) select = select.where(this.#reader.compileFilter(caller, collection, filter, query))
    const rows = await select.execute()
    return new Set(rows.map((row) => String(row.id)))
  }

  private projection(
    collection: CollectionDefinition,
    caller: Caller,
    fields: string | undefined,
    extras: string[] = [],
  ) {
    if (!fields) return undefined
    const visible = new Set(collection.fields.filter((f) => isReturned(f, caller)).map((f) => f.name))
    visible.add('collectionId')
    visible.add('collectionName')
    for (const extra of extras) visible.add(extra)
    return parseFieldsParam(fields, visible)
  }

  private result(loaded: LoadedRecord, projection: ReturnType<RecordService['projection']>): WriteResult {
    return {
      record: projection ? applyProjection(loaded.record, projection) : loaded.record,
      etag: etagOf(versionOf(loaded.row)),
    }
  }
}
