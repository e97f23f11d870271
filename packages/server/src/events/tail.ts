import type { Kysely } from 'kysely'
import { readEvents } from './outbox.js'
import type { StoredEvent } from './types.js'

/** Events kept in memory for consumers that are nearly caught up. */
const KEPT = 5000

/**
 * The newest events of the outbox, read once for every consumer of a node. Consumers
 * that keep up ask for the same events after each commit; without this, each would
 * query and parse them again, on SQLite over the one connection the writes need.
 *
 * Because events are numbered in commit order, a read that returned events up to N
 * has seen every event up to N that will ever exist: the kept run has no holes, and
 * anything after the position of a consumer inside it comes from memory.
 */
export class OutboxTail {
  /** Every event after `#from` and up to `#readUpTo`, oldest first. */
  #events: StoredEvent[] = []
  #from = 0
  #readUpTo = 0
  readonly #reading = new Map<string, Promise<StoredEvent[]>>()
  /** The end of the outbox as the newest short read found it, and the wake-up count it began at. */
  #newestRead = 0
  #newestReadEpoch = -1

  constructor(private readonly db: Kysely<any>) {}

  /**
   * Whether a consumer that has every event up to `position` has all there are, as far as any
   * wake-up since `epoch` (the dispatcher's count of them) can tell: the newest read of the
   * outbox found nothing after `position`, and it began at `epoch` or later. Every commit is
   * followed by a wake-up, so an event that read could have missed has bumped the count.
   */
  isCaughtUp(position: number, epoch: number): boolean {
    return position >= this.#newestRead && this.#newestReadEpoch >= epoch
  }

  async after(position: number, limit: number, epoch = 0): Promise<StoredEvent[]> {
    if (position >= this.#from && position < this.#readUpTo) {
      const start = this.#indexAfter(position)
      return this.#events.slice(start, start + limit)
    }
    // Consumers woken together ask for the same events at once: one query answers them all.
    const key = `${position}/${limit}/${epoch}`
    let reading = this.#reading.get(key)
    if (!reading) {
      reading = this.#read(position, limit, epoch).finally(() => this.#reading.delete(key))
      this.#reading.set(key, reading)
    }
    // Each consumer gets an array of its own; the events themselves are shared, as the kept ones are.
    return (await reading).slice()
  }

  async #read(position: number, limit: number, epoch: number): Promise<StoredEvent[]> {
    const events = await readEvents(this.db, position, limit)
    if (events.length > 0 && position >= this.#readUpTo) this.#keep(position, events)
    // A read that came back short saw the end of the outbox as it was when the read began.
    const end = events.at(-1)?.seq ?? position
    if (events.length < limit && end >= this.#newestRead && epoch >= this.#newestReadEpoch) {
      this.#newestRead = end
      this.#newestReadEpoch = epoch
    }
    return events
  }

  #keep(position: number, events: StoredEvent[]): void {
    // A run that does not join the kept one starts it afresh.
    if (position !== this.#readUpTo) {
      this.#events = []
      this.#from = position
    }
    this.#events.push(...events)
    this.#readUpTo = events[events.length - 1]!.seq
    if (this.#events.length > KEPT) {
      const dropped = this.#events.length - KEPT
      this.#from = this.#events[dropped - 1]!.seq
      this.#events = this.#events.slice(dropped)
    }
  }

  /** The index of the first kept event after `position`. */
  #indexAfter(position: number): number {
    let low = 0
    let high = this.#events.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (this.#events[middle]!.seq <= position) low = middle + 1
      else high = middle
    }
    return low
  }
}
