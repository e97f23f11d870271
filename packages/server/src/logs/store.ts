import { sql } from 'kysely'
import { type CollectionDefinition, emptyDefinition, type FieldDefinition } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { compileFilter, compileSort, type FilterContext } from '../query/index.js'
import { REQUEST_LOGS_TABLE } from './migration.js'

/** A request as `/api/logs` shows it. */
export interface RequestLog {
  id: string
  created: string
  method: string
  route: string | null
  url: string
  status: number
  /** Milliseconds from the request to the end of its answer. */
  duration: number
  authId: string | null
  authCollection: string | null
  ip: string
  userAgent: string
  requestId: string
  nodeId: string
  /** The share of such requests kept when this one was; 1 / sampleRate requests stand behind the row. */
  sampleRate: number
}

export interface RequestLogPage {
  items: RequestLog[]
  page: number
  perPage: number
  totalItems: number
  totalPages: number
}

/** Requests in one bucket of time: `requests` estimates all of them from the sampled rows. */
export interface RequestLogBucket {
  time: string
  requests: number
  rows: number
  serverErrors: number
}

export type StatsInterval = 'minute' | 'hour'

const ALIAS = 'l'
/** The newest buckets a stats answer holds: a day of minutes, or two months of hours. */
const MAX_BUCKETS = 1440

const field = (name: string, type: FieldDefinition['type']): FieldDefinition => ({
  id: `log_${name}`,
  name,
  type,
  system: true,
})

/**
 * The request log's columns as a collection's fields, so the filter and sort languages
 * compile against this fixed list exactly as against a collection: unknown names are a
 * 400 with their position, values are bound, identifiers come only from this list.
 */
const requestLogs: CollectionDefinition = {
  ...emptyDefinition('base'),
  id: REQUEST_LOGS_TABLE,
  name: REQUEST_LOGS_TABLE,
  system: true,
  fields: [
    field('id', 'text'),
    field('created', 'date'),
    field('method', 'text'),
    field('route', 'text'),
    field('url', 'text'),
    field('status', 'number'),
    field('duration', 'number'),
    field('authId', 'text'),
    field('authCollection', 'text'),
    field('ip', 'text'),
    field('userAgent', 'text'),
    field('requestId', 'text'),
    field('nodeId', 'text'),
    field('sampleRate', 'number'),
  ],
}

/** The request log's fields, as filters and sorts may name them. */
export const REQUEST_LOG_FIELDS = requestLogs.fields.map((each) => each.name)

function toLog(row: Record<string, unknown>): RequestLog {
  return {
    id: row.id as string,
    created: row.created as string,
    method: row.method as string,
    route: (row.route as string | null) ?? null,
    url: row.url as string,
    status: Number(row.status),
    duration: Number(row.duration),
    authId: (row.authId as string | null) ?? null,
    authCollection: (row.authCollection as string | null) ?? null,
    ip: row.ip as string,
    userAgent: row.userAgent as string,
    requestId: row.requestId as string,
    nodeId: row.nodeId as string,
    sampleRate: Number(row.sampleRate),
  }
}

/** Reads and prunes the request log; every filter and sort is compiled with bound values. */
export class RequestLogStore {
  constructor(private readonly dialect: Dialect) {}

  #context(): FilterContext {
    return {
      dialect: this.dialect,
      collection: requestLogs,
      alias: ALIAS,
      // The log is no collection: `@collection.*` and relations reach nothing.
      collections: () => undefined,
      canSeeHidden: true,
      now: new Date(),
      request: { auth: null, body: {}, query: {} },
    }
  }

  #filtered(filter: string) {
    const base = this.dialect.db.selectFrom(`${REQUEST_LOGS_TABLE} as ${ALIAS}`)
    return filter.trim() === '' ? base : base.where(compileFilter(filter, this.#context()))
  }

  async list(options: {
    filter: string
    sort: string
    page: number
    perPage: number
    skipTotal: boolean
  }): Promise<RequestLogPage> {
    const filtered = this.#filtered(options.filter)
    let rows = filtered.selectAll(ALIAS)
    for (const item of compileSort(options.sort.trim() === '' ? '-created' : options.sort, this.#context()))
      rows = rows.orderBy(item.expression, item.direction)
    const found = await rows
      .limit(options.perPage)
      .offset((options.page - 1) * options.perPage)
      .execute()
    const totalItems = options.skipTotal
      ? -1
      : Number((await filtered.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst())?.count ?? 0)
    return {
      items: found.map(toLog),
      page: options.page,
      perPage: options.perPage,
      totalItems,
      totalPages: options.skipTotal ? -1 : Math.ceil(totalItems / options.perPage),
    }
  }

  async get(id: string): Promise<RequestLog | null> {
    const row = await this.dialect.db
      .selectFrom(REQUEST_LOGS_TABLE)
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? toLog(row) : null
  }

  /** Requests per minute or hour among the rows the filter keeps, oldest bucket first. */
  async stats(filter: string, interval: StatsInterval): Promise<RequestLogBucket[]> {
    const minutesPerBucket = interval === 'hour' ? 60 : 1
    // Whole minutes divided by a whole number: integer division on both databases.
    const bucket = sql<number>`${sql.ref(`${ALIAS}.minute`)} / ${sql.lit(minutesPerBucket)}`
    const rows = await this.#filtered(filter)
      .select([
        bucket.as('bucket'),
        sql<number>`sum(1.0 / ${sql.ref(`${ALIAS}.sampleRate`)})`.as('requests'),
        sql<number>`count(*)`.as('rows'),
        sql<number>`sum(case when ${sql.ref(`${ALIAS}.status`)} >= 500 then 1 else 0 end)`.as('serverErrors'),
      ])
      .groupBy(bucket)
      .orderBy(bucket, 'desc')
      .limit(MAX_BUCKETS)
      .execute()
    return rows.reverse().map((row) => ({
      time: new Date(Number(row.bucket) * minutesPerBucket * 60_000).toISOString(),
      requests: Math.round(Number(row.requests)),
      rows: Number(row.rows),
      serverErrors: Number(row.serverErrors),
    }))
  }

  /** Deletes requests logged before `before` (ms since the epoch). */
  async prune(before: number): Promise<void> {
    await this.dialect.db
      .deleteFrom(REQUEST_LOGS_TABLE)
      .where('minute', '<', sql<number>`cast(${Math.floor(before / 60_000)} as bigint)`)
      .execute()
  }
}
