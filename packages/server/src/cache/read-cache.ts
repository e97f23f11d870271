import { hash, randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { CollectionRegistry } from '../collections/index.js'
import type { CacheConfig } from '../config/index.js'
import { type EventConsumer, newestSeq } from '../events/index.js'
import type { Caller } from '../identity/index.js'
import { type CacheStore, ProcessCacheStore } from './stores.js'

export type CachedRead = 'list' | 'view'

/** The query parameters that decide whether an answer may be cached. */
export interface ReadQuery {
  filter?: unknown
  sort?: unknown
  expand?: unknown
}

/** In every key: nodes of a version that keeps entries in another shape never read these. */
const ENTRY_FORMAT = 'expiry-etag-payload'

/** Filters whose answer changes with the clock, not with the data: never cached. */
const CLOCK_MACRO = /@(now|todayStart|todayEnd)\b/

export interface ReadCacheDependencies {
  db: Kysely<any>
  registry: CollectionRegistry
  store: CacheStore
  /** The schema version the registry holds, the same number on every node. */
  schemaVersion(): number | null
  /** Told of each lookup, for the metrics. */
  onLookup?(hit: boolean): void
}

/**
 * Answers of record lists and views, kept under a key of everything they depend on:
 * the schema version, the data version, the caller and the URL.
 *
 * The data version is the newest event of the outbox this node knows to be settled: every
 * record write of every node (and of the CLI) leaves one, and every node learns the same numbers,
 * so nodes sharing a store (Redis, memcached) share entries. Any write changes it: a rule,
 * an expand or a filter may read any collection, so an answer may depend on any write. A
 * node's own write changes it at commit, before the writer's answer leaves, so a client
 * never reads from before its own write.
 *
 * What is kept under a key never changes (a new version makes a new key), so a node keeps the
 * answers it reads in its own memory too, in front of a shared store: a hit there costs no
 * round trip to Redis or memcached, and is exactly as fresh.
 */
export class ReadCache {
  #dataVersion = `l${randomUUID()}`
  /** The newest settled event the version has moved to. */
  #settled = 0
  /** The newest event this node's own commits wrote: the version never moves back before it. */
  #ownNewest = 0
  /** This process's copies of a shared store's entries; null when the store is this process. */
  readonly #near: ProcessCacheStore | null

  constructor(
    private readonly deps: ReadCacheDependencies,
    private readonly config: CacheConfig,
  ) {
    this.#near = deps.store.kind === 'process' ? null : new ProcessCacheStore(config.maxBytes)
  }

  /**
   * The cache needs only the newest event's number, never the events: the dispatcher moves it
   * along without reading them (after this node's commits, and at each poll, which catches a
   * lost notice).
   */
  get consumer(): EventConsumer {
    return {
      name: 'read-cache',
      durable: false,
      wantsEvents: () => false,
      skipTo: (seq) => this.settle(seq),
      deliver: async (events) => {
        const newest = events.at(-1)
        if (newest) this.settle(newest.seq)
      },
    }
  }

  /**
   * Every event up to `seq` is settled (read from the outbox, or named by another node's
   * notice): answers are kept under that number, which every node shares. Never backwards,
   * and never before this node's own newest commit, whose writes a client must see.
   */
  settle(seq: number): void {
    if (seq <= this.#settled || seq < this.#ownNewest) return
    this.#settled = seq
    this.#moveTo(`s${seq}`)
  }

  /** What answers are kept under now: `s` and the newest event read, or `l` and a random id after a write of this node. */
  get dataVersion(): string {
    return this.#dataVersion
  }

  get storeKind(): CacheStore['kind'] {
    return this.deps.store.kind
  }

  /** Starts from the outbox's newest event, as every other node does. */
  async start(): Promise<void> {
    this.#settled = await newestSeq(this.deps.db)
    this.#dataVersion = `s${this.#settled}`
  }

  /**
   * A write of this node committed, its newest event `newestEvent`: what was read before it
   * is stale now, here at once, until the version moves to that event or a later one.
   */
  invalidate(newestEvent = 0): void {
    if (newestEvent > this.#ownNewest) this.#ownNewest = newestEvent
    // Already settled at or past it (a poll or another node's notice came first): events are
    // numbered in commit order, so the version was taken after this write was visible, and
    // answers kept under it include the write. Staying on it keeps them shared with other nodes.
    if (newestEvent > 0 && newestEvent <= this.#settled) return
    this.#moveTo(`l${randomUUID()}`)
  }

  #moveTo(dataVersion: string): void {
    if (dataVersion === this.#dataVersion) return
    this.#dataVersion = dataVersion
    // Answers kept in this process under the old version will never be asked for again.
    this.#near?.retire()
    this.deps.store.retire?.()
  }

  /**
   * Whether an answer depends on the clock: then it is neither kept here nor by caches in front.
   * Besides the collection's own rule and the filter, a path through a relation (in the rule,
   * the filter or the sort) or an expand passes other collections' view rules: when any rule
   * reads the clock, such an answer is taken to read it too.
   */
  dependsOnClock(read: CachedRead, collectionName: string, query: ReadQuery): boolean {
    const collection = this.deps.registry.get(collectionName)
    const rule = read === 'list' ? collection?.listRule : collection?.viewRule
    if (readsClock(rule) || readsClock(query.filter)) return true
    const reachesOthers = query.expand !== undefined || [rule, query.filter, query.sort].some(hasPath)
    return (
      reachesOthers &&
      this.deps.registry.all().some((other) => readsClock(other.viewRule) || readsClock(other.listRule))
    )
  }

  /**
   * The key of an answer, or null when it must not be cached. Taken before the answer is read:
   * a write that lands meanwhile changes the version, so the answer is never kept under a newer one.
   */
  keyFor(
    read: CachedRead,
    collectionName: string,
    caller: Caller,
    url: string,
    query: ReadQuery,
  ): string | null {
    const schema = this.deps.schemaVersion()
    if (!this.config.enabled || schema === null || !this.deps.registry.get(collectionName)) return null
    if (this.dependsOnClock(read, collectionName, query)) return null
    // A digest even for the process's own store: the plain key is 150 to 250 characters, which
    // the budget counts, and on reads at random it left room for a quarter fewer answers.
    return hash(
      'sha256',
      `${ENTRY_FORMAT}\n${schema}\n${this.#dataVersion}\n${callerKey(caller)}\n${read}\n${url}`,
      'base64url',
    )
  }

  async get(key: string): Promise<{ etag: string; payload: string } | undefined> {
    const near = await this.#near?.get(key)
    const entry = near ?? (await this.deps.store.get(key))
    this.deps.onLookup?.(entry !== undefined)
    if (entry === undefined) return undefined
    const [expiresAt, etag, payload] = splitEntry(entry)
    // The copy expires with the shared entry, so an answer is never kept longer than the TTL.
    const secondsLeft = (expiresAt - Date.now()) / 1000
    if (near === undefined && secondsLeft > 0) await this.#near?.set(key, entry, secondsLeft)
    return { etag, payload }
  }

  async set(key: string, etag: string, payload: string): Promise<void> {
    const { ttlSeconds } = this.config
    const entry = `${Date.now() + ttlSeconds * 1000}\n${etag}\n${payload}`
    await Promise.all([this.#near?.set(key, entry, ttlSeconds), this.deps.store.set(key, entry, ttlSeconds)])
  }

  async close(): Promise<void> {
    await Promise.all([this.#near?.close(), this.deps.store.close()])
  }
}

/** An entry's expiry (ms since the epoch), ETag and payload. */
function splitEntry(entry: string): [number, string, string] {
  const first = entry.indexOf('\n')
  const second = entry.indexOf('\n', first + 1)
  return [Number(entry.slice(0, first)), entry.slice(first + 1, second), entry.slice(second + 1)]
}

/** The caller's own fields and the query's values are not paths through relations. */
const OWN_VALUES = /@request\.(auth|query)\.\w+(?![\w.])/g

/** Whether a rule, filter or sort may follow a relation (a dot outside the caller's own fields). */
function hasPath(text: unknown): boolean {
  return typeof text === 'string' && text.replace(OWN_VALUES, '').includes('.')
}

function readsClock(text: unknown): boolean {
  return typeof text === 'string' && CLOCK_MACRO.test(text)
}

/**
 * What of the caller an answer can depend on: the rules see the signed-in record, and an
 * API key narrows it to its scopes. The record's fields are data: a change to them changes
 * the data version.
 */
export function callerKey(caller: Caller): string {
  if (!caller.auth) return 'anonymous'
  const record = `${caller.auth.collection.id}/${String(caller.auth.record.id)}`
  return caller.apiKey ? `${record}/key/${caller.apiKey.id}` : record
}
