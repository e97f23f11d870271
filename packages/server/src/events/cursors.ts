import type { Kysely } from 'kysely'
import { EVENT_CURSORS_TABLE } from './outbox.js'

/**
 * How often a held position is written down. Between writes it lives in memory: a
 * node that dies repeats at most this much delivery, which at-least-once allows,
 * and a busy outbox does not cost a second committed write per batch.
 */
const PERSIST_EVERY_MS = 1000

/**
 * How long a node that found the consumer held by another waits before asking again, at
 * most: every commit wakes every node, and asking on each would cost a write per commit per
 * node. Short, so a holder that released it on a clean stop is followed within a second.
 */
const RECLAIM_AFTER_MS = 1000

/**
 * A durable consumer's place in the outbox, held by one node at a time under a
 * lease: the node that holds it delivers; another takes over when the lease runs
 * out (the holder died), so an event may be delivered twice but never skipped.
 */
export class DurableCursor {
  #heldUntil = 0
  #position = 0
  #persisted = 0
  #persistedAt = 0
  #exists = false
  /** Until when another node holds the lease, as far as this one knows: no claim before then. */
  #heldElsewhereUntil = 0

  constructor(
    private readonly db: Kysely<any>,
    readonly consumer: string,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /** Takes or renews the lease; answers the position to read from, or null when another node holds it. */
  async claim(startAt: () => Promise<number>, now = Date.now()): Promise<number | null> {
    // Renewed once half the lease is spent, not on every poll.
    if (now < this.#heldUntil - this.leaseMs / 2) return this.#position
    if (now < this.#heldUntil && (await this.#write(now))) return this.#position
    if (now < this.#heldElsewhereUntil) return null
    if (!this.#exists) {
      await this.db
        .insertInto(EVENT_CURSORS_TABLE)
        .values({ consumer: this.consumer, seq: await startAt(), owner: null, lease_until: 0 })
        .onConflict((oc) => oc.column('consumer').doNothing())
        .execute()
      this.#exists = true
    }
    const taken = await this.db
      .updateTable(EVENT_CURSORS_TABLE)
      .set({ owner: this.owner, lease_until: now + this.leaseMs })
      .where('consumer', '=', this.consumer)
      .where((eb) =>
        eb.or([eb('owner', '=', this.owner), eb('owner', 'is', null), eb('lease_until', '<', now)]),
      )
      .executeTakeFirst()
    if (Number(taken.numUpdatedRows) === 0) {
      this.#heldUntil = 0
      this.#heldElsewhereUntil = now + RECLAIM_AFTER_MS
      return null
    }
    const row = await this.db
      .selectFrom(EVENT_CURSORS_TABLE)
      .select('seq')
      .where('consumer', '=', this.consumer)
      .executeTakeFirstOrThrow()
    this.#heldUntil = now + this.leaseMs
    this.#position = this.#persisted = Number(row.seq)
    this.#persistedAt = now
    return this.#position
  }

  /** The position delivered so far, written down or not, while this node holds the lease. */
  heldPosition(now = Date.now()): number | undefined {
    return now < this.#heldUntil ? this.#position : undefined
  }

  /** Moves past delivered events; false when the lease was lost meanwhile. */
  async advance(seq: number, now = Date.now()): Promise<boolean> {
    this.#position = seq
    if (now - this.#persistedAt < PERSIST_EVERY_MS) return now < this.#heldUntil
    return this.#write(now)
  }

  /** Writes down a position not yet written: the consumer is idle, so the write costs nothing. */
  async flush(now = Date.now()): Promise<void> {
    if (this.#position > this.#persisted && now < this.#heldUntil) await this.#write(now)
  }

  /** Writes the position down and lets another node take over at once, on a clean stop. */
  async release(): Promise<void> {
    if (this.#heldUntil === 0) return
    this.#heldUntil = 0
    await this.db
      .updateTable(EVENT_CURSORS_TABLE)
      .set({ seq: this.#position, owner: null, lease_until: 0 })
      .where('consumer', '=', this.consumer)
      .where('owner', '=', this.owner)
      .execute()
  }

  /** Records the position and renews the lease, if this node still holds it. */
  async #write(now: number): Promise<boolean> {
    const result = await this.db
      .updateTable(EVENT_CURSORS_TABLE)
      .set({ seq: Math.max(this.#position, this.#persisted), lease_until: now + this.leaseMs })
      .where('consumer', '=', this.consumer)
      .where('owner', '=', this.owner)
      .executeTakeFirst()
    const kept = Number(result.numUpdatedRows) > 0
    this.#heldUntil = kept ? now + this.leaseMs : 0
    if (kept) {
      this.#persisted = this.#position
      this.#persistedAt = now
    }
    return kept
  }
}

/**
 * Where each named durable consumer is: the position it wrote down, or the one this node
 * holds in memory when further (a busy consumer writes its position only once a second).
 * A consumer without a position has not started.
 */
async function positions(
  db: Kysely<any>,
  consumers: string[],
  heldHere: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom(EVENT_CURSORS_TABLE)
    .select(['consumer', 'seq'])
    .where('consumer', 'in', consumers)
    .execute()
  return new Map(
    rows.map((row) => [row.consumer as string, Math.max(Number(row.seq), heldHere.get(row.consumer) ?? 0)]),
  )
}

/** The lowest position of the named durable consumers: events at or below it are delivered everywhere. */
export async function deliveredUpTo(
  db: Kysely<any>,
  consumers: string[],
  heldHere: ReadonlyMap<string, number> = new Map(),
): Promise<number> {
  if (consumers.length === 0) return Number.MAX_SAFE_INTEGER
  const known = await positions(db, consumers, heldHere)
  // A consumer without a row has not started: it will begin at the newest event, so it holds nothing back.
  return known.size === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...known.values())
}

/**
 * Events each named durable consumer has not yet had: the newest event's number less its
 * position (for a consumer held by another node, the one that node wrote down, at most a
 * second behind). A consumer without a position has not started and will begin at the
 * newest event, so nothing waits for it.
 */
export async function undeliveredEvents(
  db: Kysely<any>,
  consumers: string[],
  newest: number,
  heldHere: ReadonlyMap<string, number> = new Map(),
): Promise<{ consumer: string; events: number }[]> {
  if (consumers.length === 0) return []
  const known = await positions(db, consumers, heldHere)
  return consumers.map((consumer) => ({
    consumer,
    events: Math.max(0, newest - (known.get(consumer) ?? newest)),
  }))
}
