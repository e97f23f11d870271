import type { Kysely } from 'kysely'
import type { ReadReplicas, ReplicaStatus } from '../db/index.js'
import type { Caller } from '../identity/index.js'

/** Callers remembered at once; the oldest write is forgotten first, and with it only a few seconds of stickiness. */
const MAX_WRITERS = 10_000

/**
 * Chooses where a record list or view reads: a replica, unless the caller wrote within the
 * last `stickyMs`, so that a caller always sees its own writes however far the replicas lag.
 * Callers are told apart by session or API key; anonymous callers have nothing to remember
 * them by, and read from replicas. What was written is remembered by this node only.
 */
export class ReadRouting {
  /** Caller key → when its stickiness ends (ms); a Map keeps insertion order, so the first key is the oldest write. */
  readonly #writers = new Map<string, number>()

  constructor(
    private readonly primary: Kysely<any>,
    private readonly replicas: ReadReplicas | null,
    private readonly stickyMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Remembers that `caller` wrote just now. */
  noteWrite(caller: Caller): void {
    const key = writerKey(caller)
    if (!this.replicas || key === null || this.stickyMs === 0) return
    this.#writers.delete(key)
    this.#writers.set(key, this.now() + this.stickyMs)
    if (this.#writers.size > MAX_WRITERS) this.#writers.delete(this.#writers.keys().next().value!)
  }

  /** Runs a read for `caller` on a replica, or on the primary when there is none or the caller wrote lately. */
  read<T>(caller: Caller, work: (db: Kysely<any>) => Promise<T>): Promise<T> {
    if (!this.replicas || this.isSticky(caller)) return work(this.primary)
    return this.replicas.read(work)
  }

  /** The replicas for the health endpoint; null when none are configured. */
  status(): ReplicaStatus | null {
    return this.replicas?.status() ?? null
  }

  close(): Promise<void> {
    return this.replicas?.close() ?? Promise.resolve()
  }

  private isSticky(caller: Caller): boolean {
    const key = writerKey(caller)
    if (key === null) return false
    const until = this.#writers.get(key)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.#writers.delete(key)
    return false
  }
}

function writerKey(caller: Caller): string | null {
  if (caller.session) return `session:${caller.session.id}`
  if (caller.apiKey) return `key:${caller.apiKey.id}`
  return null
}
