import type { Kysely } from 'kysely'
import {
  type CollectionDefinition,
  type CollectionRegistry,
  emailAsPasswordProblem,
  isView,
} from '../collections/index.js'
import { hashPassword } from '../crypto/index.js'
import type { Dialect } from '../db/index.js'
import {
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ReadOnlyCollectionError,
  ValidationError,
} from '../errors/index.js'
import type { Caller } from '../identity/index.js'
import { assertRuleOpen, checkAccess } from '../rules/index.js'
import { applyProjection, parseFieldsParam } from './fields-param.js'
import { assertKeyScope } from './key-scope.js'
import type { ListParams } from './list-params.js'
import { ListQueryBuilder } from './list-queries.js'
import { type LoadedRecord, RecordReader } from './reader.js'
import { etagOf, ifMatchAllows, isReturned, versionOf } from './serialize.js'
import type { ChangeListener, ListPage, ReadOptions, RecordData, WriteGuard } from './types.js'
import { type CleanBody, validateBody } from './validator.js'
import { ViewQueries } from './view-queries.js'
import { RecordWriter } from './writer.js'

export interface WriteResult {
  record: RecordData
  etag: string
}

export interface WriteOptions extends ReadOptions {
  ifMatch?: string
  query?: Record<string, unknown>
  /** Lets a superuser's update set an auth record's email; only the email-change flow passes it. */
  isEmailChange?: boolean
}

/** The operations of a batch, all in the caller's one transaction. */
export interface WriteScope {
  /** The transaction itself, for work that belongs with the records' writes. */
  db: Kysely<any>
  create(collection: string, body: unknown, options?: WriteOptions): Promise<WriteResult>
  update(collection: string, id: string, body: unknown, options?: WriteOptions): Promise<WriteResult>
  delete(collection: string, id: string, options?: WriteOptions): Promise<void>
}

/**
 * Records of any collection: reads with the rules in the WHERE clause, writes in
 * one transaction each (or the caller's, for batches), with change listeners
 * running inside that transaction.
 */
export class RecordService {
  readonly #reader: RecordReader
  readonly #writer: RecordWriter
  readonly #listQueries: ListQueryBuilder
  readonly #views: ViewQueries
  readonly #guards: WriteGuard[] = []

  constructor(
    private readonly dialect: Dialect,
    private readonly registry: CollectionRegistry,
    private readonly listeners: ChangeListener[] = [],
  ) {
    this.#reader = new RecordReader(dialect, registry)
    this.#writer = new RecordWriter(dialect)
    this.#views = new ViewQueries(this.#reader)
    this.#listQueries = new ListQueryBuilder(this.#reader)
  }

  /** Adds a listener that runs inside every record write's transaction. */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener)
  }

  /** Adds a guard every create and update passes before it is written. */
  guardWrites(guard: WriteGuard): void {
    this.#guards.push(guard)
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
  ): Promise<ListPage> {
    const collection = this.collection(name)
    assertKeyScope(caller, collection, 'list')
    assertRuleOpen(caller, collection, 'listRule')
    const projection = this.projection(collection, caller, params.fields)
    const db = this.dialect.db
    const queries = this.#listQueries.queries(caller, collection, params, query)
    const found = (await db.executeQuery(queries.rows)).rows
    const items = await this.#reader.toRecords(db, collection, found, caller)
    await this.#reader.expand(db, collection, items, params.expand, caller)
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
  ): Promise<WriteResult> {
    const collection = this.collection(name)
    assertKeyScope(caller, collection, 'view')
    // Before the field list is checked, so a closed collection does not tell its field names.
    assertRuleOpen(caller, collection, 'viewRule')
    const projection = this.projection(collection, caller, options.fields)
    const db = this.dialect.db
    const row = await this.#views.find(caller, collection, id.toLowerCase(), query)
    if (!row) throw new NotFoundError()
    const [record] = await this.#reader.toRecords(db, collection, [row], caller)
    await this.#reader.expand(db, collection, [record!], options.expand, caller)
    return this.result({ row, record: record! }, projection)
  }

  /** The caller's own auth record as the caller sees it; rules do not hide one's own record. */
  async own(caller: Caller): Promise<RecordData> {
    if (!caller.auth) throw new NotFoundError()
    const loaded = await this.load(
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
    const prepared = await this.prepareCreate(caller, name, body)
    return this.dialect.transaction((trx) => this.createIn(trx, caller, prepared, options))
  }

  async update(
    caller: Caller,
    name: string,
    id: string,
    body: unknown,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const prepared = await this.prepareUpdate(caller, name, body, options)
    return this.dialect.transaction((trx) => this.updateIn(trx, caller, prepared, id, options))
  }

  async delete(caller: Caller, name: string, id: string, options: WriteOptions = {}): Promise<void> {
    const collection = this.writableCollection(name)
    await this.dialect.transaction((trx) => this.deleteIn(trx, caller, collection, id, options))
  }

  /**
   * Runs `work` with create/update/delete in one transaction: all of them apply, or
   * none. Bodies are validated (and passwords hashed) as each call is made.
   */
  async batch<T>(caller: Caller, work: (scope: WriteScope) => Promise<T>): Promise<T> {
    return this.dialect.transaction((trx) =>
      work({
        db: trx,
        create: async (name, body, options = {}) =>
          this.createIn(trx, caller, await this.prepareCreate(caller, name, body), options),
        update: async (name, id, body, options = {}) =>
          this.updateIn(trx, caller, await this.prepareUpdate(caller, name, body, options), id, options),
        delete: async (name, id, options = {}) =>
          this.deleteIn(trx, caller, this.writableCollection(name), id, options),
      }),
    )
  }

  private async prepareCreate(caller: Caller, name: string, body: unknown) {
    const collection = this.writableCollection(name)
    assertKeyScope(caller, collection, 'create')
    assertRuleOpen(caller, collection, 'createRule')
    const clean = validateBody(collection, body, { mode: 'create', isSuperuser: caller.isSuperuser })
    for (const guard of this.#guards) guard(caller, 'create', collection, writtenFields(clean))
    if (clean.password !== undefined) clean.passwordHash = await hashPassword(clean.password)
    return { collection, clean, body: body as Record<string, unknown> }
  }

  private async prepareUpdate(caller: Caller, name: string, body: unknown, options: WriteOptions = {}) {
    const collection = this.writableCollection(name)
    assertKeyScope(caller, collection, 'update')
    assertRuleOpen(caller, collection, 'updateRule')
    const clean = validateBody(collection, body, {
      mode: 'update',
      isSuperuser: caller.isSuperuser,
      isEmailChange: options.isEmailChange === true && caller.isSuperuser,
    })
    for (const guard of this.#guards) guard(caller, 'update', collection, writtenFields(clean))
    if (clean.password !== undefined) clean.passwordHash = await hashPassword(clean.password)
    return { collection, clean, body: body as Record<string, unknown> }
  }

  private async createIn(
    trx: Kysely<any>,
    caller: Caller,
    { collection, clean, body }: Awaited<ReturnType<RecordService['prepareCreate']>>,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const access = checkAccess(caller, collection, 'createRule', this.#reader.filterContext(), {
      body,
      query: options.query,
    })
    const projection = this.projection(collection, caller, options.fields)
    const id = await this.#writer.insert(trx, collection, clean)
    // The create rule is checked against the stored candidate, inside the transaction.
    const loaded = await this.load(
      trx,
      collection,
      id,
      caller,
      access.kind === 'where' ? access.condition : undefined,
    )
    if (!loaded) throw new ForbiddenError('The create rule does not allow this record.')
    await this.notify(trx, {
      written: writtenFields(clean),
      action: 'create',
      collection,
      record: await this.asSuperuser(trx, collection, loaded),
      previous: null,
    })
    await this.#reader.expand(trx, collection, [loaded.record], options.expand, caller)
    return this.result(loaded, projection)
  }

  private async updateIn(
    trx: Kysely<any>,
    caller: Caller,
    { collection, clean, body }: Awaited<ReturnType<RecordService['prepareUpdate']>>,
    id: string,
    options: WriteOptions,
  ): Promise<WriteResult> {
    const projection = this.projection(collection, caller, options.fields)
    const stored = await this.#reader.findRowForWrite(trx, collection, id)
    const previous = stored
      ? (await this.#reader.toRecords(trx, collection, [stored], { auth: null, isSuperuser: true }))[0]!
      : undefined
    const access = this.#reader.access(caller, collection, 'updateRule', {
      body,
      query: options.query,
      existing: previous,
    })
    const visible =
      stored && (access.kind === 'all' || (await this.#reader.findRow(trx, collection, id, access.condition)))
    if (!stored || !visible) throw new NotFoundError()
    if (!ifMatchAllows(options.ifMatch, stored._version)) throw new PreconditionFailedError()
    const sameAsEmail =
      clean.password === undefined ? null : emailAsPasswordProblem(clean.password, stored.email)
    if (sameAsEmail) throw new ValidationError({ password: sameAsEmail })
    await this.#writer.update(trx, collection, id, clean)
    const loaded = (await this.load(trx, collection, id, caller))!
    await this.notify(trx, {
      written: writtenFields(clean),
      action: 'update',
      collection,
      record: await this.asSuperuser(trx, collection, loaded),
      previous: previous!,
    })
    await this.#reader.expand(trx, collection, [loaded.record], options.expand, caller)
    return this.result(loaded, projection)
  }

  private async deleteIn(
    trx: Kysely<any>,
    caller: Caller,
    collection: CollectionDefinition,
    id: string,
    options: WriteOptions,
  ) {
    assertKeyScope(caller, collection, 'delete')
    const access = this.#reader.access(caller, collection, 'deleteRule', { query: options.query })
    const stored = await this.#reader.findRowForWrite(
      trx,
      collection,
      id,
      access.kind === 'where' ? access.condition : undefined,
    )
    if (!stored) throw new NotFoundError()
    if (!ifMatchAllows(options.ifMatch, stored._version)) throw new PreconditionFailedError()
    const previous = (
      await this.#reader.toRecords(trx, collection, [stored], { auth: null, isSuperuser: true })
    )[0]!
    await this.#writer.delete(trx, collection, id)
    await this.notify(trx, { action: 'delete', collection, record: previous, previous, written: [] })
  }

  private async load(
    db: Kysely<any>,
    collection: CollectionDefinition,
    id: string,
    caller: Caller,
    condition?: Parameters<RecordReader['findRow']>[3],
  ): Promise<LoadedRecord | undefined> {
    const row = await this.#reader.findRow(db, collection, id.toLowerCase(), condition)
    if (!row) return undefined
    const [record] = await this.#reader.toRecords(db, collection, [row], caller)
    return { row, record: record! }
  }

  private async asSuperuser(
    db: Kysely<any>,
    collection: CollectionDefinition,
    loaded: LoadedRecord,
  ): Promise<RecordData> {
    if (this.listeners.length === 0) return loaded.record
    return (await this.#reader.toRecords(db, collection, [loaded.row], { auth: null, isSuperuser: true }))[0]!
  }

  private async notify(db: Kysely<any>, change: Parameters<ChangeListener>[1]): Promise<void> {
    for (const listener of this.listeners) await listener(db, change)
  }

  private projection(collection: CollectionDefinition, caller: Caller, fields: string | undefined) {
    if (!fields) return undefined
    const visible = new Set(collection.fields.filter((f) => isReturned(f, caller)).map((f) => f.name))
    visible.add('collectionName')
    return parseFieldsParam(fields, visible)
  }

  private result(loaded: LoadedRecord, projection: ReturnType<RecordService['projection']>): WriteResult {
    return {
      record: projection ? applyProjection(loaded.record, projection) : loaded.record,
      etag: etagOf(versionOf(loaded.row)),
    }
  }
}

function writtenFields(clean: CleanBody): string[] {
  const names = Object.keys(clean.values)
  if (clean.password !== undefined || clean.passwordHash !== undefined) names.push('password')
  return names
}
