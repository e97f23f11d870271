import type { Kysely } from 'kysely'
import type { ReadReplicas, ReplicaStatus } from '../db/index.js'
import type { Caller } from '../identity/index.js'

/** Callers remembered at once; the oldest write is forgotten first, and with it only a few seconds of stickiness. */
const MAX_WRITERS = 10_000

/**
 * Counters every node of the deployment sees (the cluster's shared state): a node notes a
 * caller's write there, so the caller's next read is sent to the primary whichever node takes it.
 */
export interface SharedWriteMarks {
  increment(key: string, windowMs: number): Promise<{ count: number }>
  peek(key: string): Promise<{ count: number }>
}

export interface ReadRoutingOptions {
  /** Where writes are noted for the other nodes; null on a single node. */
  shared?: SharedWriteMarks | null
  now?: () => number
}

/**
 * Chooses where a record list or view reads: a replica, unless the caller wrote within the
 * last `stickyMs`, so that a caller always sees its own writes however far the replicas lag.
 * Callers are told apart by session or API key; anonymous callers have nothing to remember
 * them by, and read from replicas.
 *
 * A write is remembered here and, behind a load balancer, in the shared state, counted in
 * windows of `stickyMs` that last two windows: a read that finds a mark in its window or the one
 * before goes to the primary, so it does for at least `stickyMs` after the last write, on any
 * node whose clock is in step. When the shared state cannot answer, the read goes to the primary.
 */
export class ReadRouting {
  /** Caller key → when its stickiness ends (ms); a Map keeps insertion order, so the first key is the oldest write. */
  readonly #writers = new Map<string, number>()

  readonly #shared: SharedWriteMarks | null
  readonly #now: () => number

  constructor(
    private readonly primary: Kysely<any>,
    private readonly replicas: ReadReplicas | null,
    private readonly stickyMs: number,
    options: ReadRoutingOptions = {},
  ) {
    this.#shared = options.shared ?? null
    this.#now = options.now ?? (() => Date.now())
  }

  /** Remembers that `caller` wrote just now, here and for the other nodes. */
  async noteWrite(caller: Caller): Promise<void> {
    const key = writerKey(caller)
    if (!this.replicas || key === null || this.stickyMs === 0) return
    const now = this.#now()
    this.#writers.delete(key)
    this.#writers.set(key, now + this.stickyMs)
    if (this.#writers.size > MAX_WRITERS) this.#writers.delete(this.#writers.keys().next().value!)
    // A mark that fails to land costs the other nodes a stale read, not this answer.
    await this.#shared?.increment(this.#markKey(key, now, 0), 2 * this.stickyMs).catch(() => {})
  }

  /** Runs a read for `caller` on a replica, or on the primary when there is none or the caller wrote lately. */
  async read<T>(caller: Caller, work: (db: Kysely<any>) => Promise<T>): Promise<T> {
    if (!this.replicas || (await this.isSticky(caller))) return work(this.primary)
    return this.replicas.read(work)
  }

  /** The replicas for the health endpoint; null when none are configured. */
  status(): ReplicaStatus | null {
    return this.replicas?.status() ?? null
  }

  close(): Promise<void> {
    return this.replicas?.close() ?? Promise.resolve()
  }

  private async isSticky(caller: Caller): Promise<boolean> {
    const key = writerKey(caller)
    if (key === null || this.stickyMs === 0) return false
    const now = this.#now()
    const until = this.#writers.get(key)
    if (until !== undefined && until > now) return true
    if (until !== undefined) this.#writers.delete(key)
    if (!this.#shared) return false
    try {
      const marks = await Promise.all([0, 1].map((back) => this.#shared!.peek(this.#markKey(key, now, back))))
      return marks.some((mark) => mark.count > 0)
    } catch {
      return true
    }
  }

  /** The counter of the window `back` windows before the one holding `now`. */
  #markKey(writer: string, now: number, back: number): string {
    return `wrote:${writer}:${Math.floor(now / this.stickyMs) - back}`
  }
}

function writerKey(caller: Caller): string | null {
  if (caller.session) return `session:${caller.session.id}`
  if (caller.apiKey) return `key:${caller.apiKey.id}`
  return null
}
