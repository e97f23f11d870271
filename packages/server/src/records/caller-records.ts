import type { Kysely } from 'kysely'
import { type Caller, superuser } from '../identity/index.js'
import { parseListParams } from './list-params.js'
import type { RecordService, WriteScope } from './service.js'
import type { ListPage, RecordData } from './types.js'
import type { WriteOptions } from './write-pipeline.js'

/** List options as code passes them: the list query's parameters, typed. */
export interface ListOptions {
  filter?: string
  sort?: string
  page?: number
  perPage?: number
  fields?: string
  expand?: string
  skipTotal?: boolean
  /** Full-text search terms, where the collection has search. */
  search?: string
  highlight?: boolean
}

/**
 * The records API for code that runs inside Plinth (hooks, routes, jobs), acting as
 * one caller: the caller's rules apply exactly as over HTTP. `asSuperuser()` is the
 * explicit way past them. Inside a before-hook it reads and writes in the hook's
 * transaction.
 *
 * @example
 * const order = await records.view('orders', id)
 * await records.update('orders', id, { status: 'shipped' })
 */
export class CallerRecords {
  constructor(
    private readonly service: RecordService,
    readonly caller: Caller,
    private readonly scope?: WriteScope,
  ) {}

  /** The same records, acting as a superuser: rules no longer apply. */
  asSuperuser(): CallerRecords {
    return new CallerRecords(this.service, superuser, this.scope?.as(superuser))
  }

  async list(collection: string, options: ListOptions = {}): Promise<ListPage> {
    const query: Record<string, string> = {}
    for (const [name, value] of Object.entries(options)) if (value !== undefined) query[name] = String(value)
    return this.service.list(this.caller, collection, parseListParams(query), {}, this.db)
  }

  async view(collection: string, id: string, options: { fields?: string; expand?: string } = {}) {
    return (await this.service.view(this.caller, collection, id, options, {}, this.db)).record
  }

  async create(collection: string, body: RecordData, options: WriteOptions = {}): Promise<RecordData> {
    const result = this.scope
      ? await this.scope.create(collection, body, options)
      : await this.service.create(this.caller, collection, body, options)
    return result.record
  }

  async update(collection: string, id: string, body: RecordData, options: WriteOptions = {}) {
    const result = this.scope
      ? await this.scope.update(collection, id, body, options)
      : await this.service.update(this.caller, collection, id, body, options)
    return result.record
  }

  async delete(collection: string, id: string, options: WriteOptions = {}): Promise<void> {
    if (this.scope) await this.scope.delete(collection, id, options)
    else await this.service.delete(this.caller, collection, id, options)
  }

  private get db(): Kysely<any> | undefined {
    return this.scope?.db
  }
}
