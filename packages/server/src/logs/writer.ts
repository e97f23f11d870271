import type { Kysely } from 'kysely'
import { v7 as uuidv7 } from 'uuid'
import type { Dialect } from '../db/index.js'
import type { Counter } from '../metrics/index.js'
import { REQUEST_LOGS_TABLE } from './migration.js'
import { RateSampler } from './sampler.js'

/** What is known of a request once it is answered. */
export interface RequestLogEntry {
  /** When the request arrived, in ms since the epoch. */
  startedAt: number
  method: string
  /** The route's pattern, or null when no route matched. */
  route: string | null
  /** Path and query, without credentials. */
  url: string
  status: number
  durationMs: number
  authId: string | null
  authCollection: string | null
  ip: string
  userAgent: string
  requestId: string
}

export interface RequestLogWriterOptions {
  nodeId: string
  /** Requests per second kept in full; above it a share is kept, every 5xx always. */
  maxPerSecond: number
  /** Longest a kept request waits in memory before it is written, in ms. */
  flushMs?: number
  /** Rows written by one statement; a full batch is written at once. */
  batchSize?: number
  /** Rows held while the database lags behind; more are dropped, and counted. */
  maxBuffered?: number
  dropped?: Counter
  log?: { warn(object: object, message: string): void }
  random?: () => number
  now?: () => number
}

/**
 * Keeps request logs off the request path: an answered request is a row in memory, and
 * rows are written a batch at a time (each second, or as soon as a batch is full), one
 * statement per batch. A batch the database refuses is dropped and counted: losing some
 * log rows is better than holding requests or memory for them.
 */
export class RequestLogWriter {
  readonly #sampler: RateSampler
  readonly #options: Required<Omit<RequestLogWriterOptions, 'dropped' | 'log'>> &
    Pick<RequestLogWriterOptions, 'dropped' | 'log'>
  #rows: Record<string, unknown>[] = []
  #timer: NodeJS.Timeout | null = null
  #writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly dialect: Dialect,
    options: RequestLogWriterOptions,
  ) {
    this.#options = {
      flushMs: 1000,
      batchSize: 500,
      maxBuffered: 20_000,
      random: Math.random,
      now: Date.now,
      ...options,
    }
    this.#sampler = new RateSampler(options.maxPerSecond, this.#options.now)
  }

  get db(): Kysely<any> {
    return this.dialect.db
  }

  /**
   * Keeps a request answered with `status` (or, on a busy node, maybe not); it is written
   * within `flushMs`. `describe` is called only for a request that is kept: on a busy node most
   * are not, and describing one reads the URL, the address and the headers.
   */
  record(status: number, describe: () => RequestLogEntry): void {
    const share = this.#sampler.next()
    const isServerError = status >= 500
    if (!isServerError && share < 1 && this.#options.random() >= share) return
    if (this.#rows.length >= this.#options.maxBuffered) {
      this.#options.dropped?.inc()
      return
    }
    this.#rows.push(this.#row(describe(), isServerError ? 1 : share))
    if (this.#rows.length >= this.#options.batchSize) this.#flushSoon(0)
    else this.#flushSoon(this.#options.flushMs)
  }

  /** Writes every row held now; resolves once they are written (or dropped). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const rows = this.#rows
    this.#rows = []
    // One write at a time, in order: batches never compete for the database's write lock.
    this.#writing = this.#writing.then(() => this.#write(rows))
    return this.#writing
  }

  #flushSoon(ms: number): void {
    if (this.#timer && ms > 0) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.flush(), ms)
    this.#timer.unref()
  }

  async #write(rows: Record<string, unknown>[]): Promise<void> {
    for (let start = 0; start < rows.length; start += this.#options.batchSize) {
      const batch = rows.slice(start, start + this.#options.batchSize)
      try {
        await this.db.insertInto(REQUEST_LOGS_TABLE).values(batch).execute()
      } catch (error) {
        this.#options.dropped?.inc(undefined, batch.length)
        this.#options.log?.warn(
          { err: error, rows: batch.length },
          'writing request logs failed; they are dropped',
        )
      }
    }
  }

  #row(entry: RequestLogEntry, sampleRate: number): Record<string, unknown> {
    return {
      id: uuidv7({ msecs: entry.startedAt }),
      created: this.dialect.encode('timestamp', new Date(entry.startedAt).toISOString()),
      minute: Math.floor(entry.startedAt / 60_000),
      method: entry.method,
      route: entry.route,
      url: entry.url,
      status: entry.status,
      duration: Math.round(entry.durationMs * 1000) / 1000,
      authId: entry.authId,
      authCollection: entry.authCollection,
      ip: entry.ip,
      userAgent: entry.userAgent,
      requestId: entry.requestId,
      nodeId: this.#options.nodeId,
      sampleRate,
    }
  }
}
