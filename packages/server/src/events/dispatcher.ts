import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Dialect } from '../db/index.js'
import { DurableCursor, deliveredUpTo, undeliveredEvents } from './cursors.js'
import { newestSeq, pruneEvents } from './outbox.js'
import { OutboxTail } from './tail.js'
import type { StoredEvent } from './types.js'

/**
 * Something that hears of every event, in `seq` order. `deliver` may be handed the
 * same events again (after a crash, or when it threw), so it must tolerate repeats;
 * while it keeps throwing, its position stays and no event is skipped.
 */
export interface EventConsumer {
  readonly name: string
  /**
   * Durable consumers keep their position in the database and run on one node at a
   * time (webhooks, brokers, event jobs). The others run on every node and begin at
   * the newest event when it starts (realtime, whose clients resume by themselves).
   */
  readonly durable: boolean
  deliver(events: StoredEvent[]): Promise<void>
  /**
   * False while the consumer would do nothing with events (realtime with no client, webhooks
   * with no endpoint): the dispatcher then moves it past new events without reading them.
   * Without it, every commit of every node costs each node a read of the outbox.
   */
  wantsEvents?(): boolean
  /** Told that every event up to `seq` went by unread while `wantsEvents()` was false. */
  skipTo?(seq: number): void
  /** Told that a read found no event after `position`: the consumer has all there are. */
  caughtUp?(position: number): Promise<void>
}

export interface DispatcherOptions {
  /** How often to look for events written by other nodes, in ms; local commits wake it at once. */
  pollInterval: number
  /** How long events are kept, in ms. */
  retention: number
  /** Events handed to a consumer at once. */
  batchSize?: number
  /** How long a node holds a durable consumer without renewing it, in ms. */
  leaseMs?: number
  log?: Pick<Logger, 'warn' | 'error'>
}

const MAX_BACKOFF_MS = 30_000
/** How long a wake-up waits for more commits to join it, in ms. */
const WAKE_DELAY_MS = 2

/**
 * Reads the outbox and hands events to each consumer, each at its own pace: a slow
 * or failing consumer (a broker that is down) delays only itself.
 */
export class EventDispatcher {
  readonly #consumers: EventConsumer[] = []
  readonly #loops = new Set<Promise<void>>()
  readonly #waiters = new Set<() => void>()
  readonly #cursors = new Map<string, DurableCursor>()
  readonly #node = randomUUID()
  readonly #options: Required<Omit<DispatcherOptions, 'log'>> & Pick<DispatcherOptions, 'log'>
  #isRunning = false
  readonly #tail: OutboxTail
  #wakeTimer: NodeJS.Timeout | null = null
  #pollTimer: NodeJS.Timeout | null = null
  /** Wake-ups so far: a read begun after the last of them has seen every committed event. */
  #wakeUps = 0
  /**
   * The newest event known to be settled: it and every event before it are committed or never
   * will be (events are numbered in commit order). Learnt only from what this node saw itself
   * (its commits, its reads and polls of the outbox), since durable consumers are moved to it.
   */
  #settled = 0
  /** The wake-up count at the newest poll, and its look at the end of the outbox. */
  #polledAt = -1
  #polledNewest: Promise<number> | null = null

  constructor(
    private readonly dialect: Dialect,
    options: DispatcherOptions,
  ) {
    this.#options = { batchSize: 500, leaseMs: 30_000, ...options }
    this.#tail = new OutboxTail(dialect.db)
  }

  /** Adds a consumer; one added after `start()` starts at once. */
  add(consumer: EventConsumer): void {
    if (this.#consumers.some((existing) => existing.name === consumer.name))
      throw new Error(`An event consumer named "${consumer.name}" is already registered.`)
    this.#consumers.push(consumer)
    if (this.#isRunning) this.#run(consumer)
  }

  get durableConsumers(): string[] {
    return this.#consumers.filter((consumer) => consumer.durable).map((consumer) => consumer.name)
  }

  start(): void {
    if (this.#isRunning) return
    this.#isRunning = true
    // One poll for all consumers: woken together, they share one read of the outbox (the tail).
    this.#pollTimer = setInterval(() => this.#poll(), this.#options.pollInterval)
    this.#pollTimer.unref()
    for (const consumer of this.#consumers) this.#run(consumer)
  }

  /**
   * Looks for new events now rather than at the next poll: a write committed, here or on
   * another node. `settled` is the newest event of a commit of this node's own.
   */
  wake(settled?: number): void {
    if (settled !== undefined) this.#noteSettled(settled)
    // Commits arrive one after another under load: one wake-up a moment later serves a burst.
    this.#wakeTimer ??= setTimeout(() => this.#wakeNow(), WAKE_DELAY_MS)
  }

  /** A poll also catches what no notice told of: a lost message, a write by another process. */
  #poll(): void {
    this.#polledNewest = null
    this.#wakeNow()
    this.#polledAt = this.#wakeUps
  }

  /** The newest settled event as of the wake-up `epoch`: a poll's wake-up asks the outbox, once for all consumers. */
  async #newestSettled(epoch: number): Promise<number> {
    if (epoch === this.#polledAt) {
      this.#polledNewest ??= newestSeq(this.dialect.db)
      this.#noteSettled(await this.#polledNewest)
    }
    return this.#settled
  }

  #noteSettled(seq: number): void {
    if (seq > this.#settled) this.#settled = seq
  }

  #wakeNow(): void {
    this.#wakeTimer = null
    this.#wakeUps++
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake()
  }

  async stop(): Promise<void> {
    this.#isRunning = false
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer)
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    this.#wakeNow()
    await Promise.all(this.#loops)
  }

  /** For each durable consumer, how many events it has not yet been handed: the outbox's lag. */
  async lag(): Promise<{ consumer: string; events: number }[]> {
    const { db } = this.dialect
    return undeliveredEvents(db, this.durableConsumers, await newestSeq(db), this.#heldPositions())
  }

  /** Deletes events past the retention that every durable consumer has delivered. */
  async prune(now = Date.now()): Promise<number> {
    const upTo = await deliveredUpTo(this.dialect.db, this.durableConsumers, this.#heldPositions())
    return pruneEvents(this.dialect.db, now - this.#options.retention, upTo)
  }

  /** Positions this node's consumers have delivered to, including those not yet written down. */
  #heldPositions(): Map<string, number> {
    const held = new Map<string, number>()
    for (const [name, cursor] of this.#cursors) {
      const position = cursor.heldPosition()
      if (position !== undefined) held.set(name, position)
    }
    return held
  }

  #run(consumer: EventConsumer): void {
    const loop = this.#loop(consumer).finally(() => this.#loops.delete(loop))
    this.#loops.add(loop)
  }

  async #loop(consumer: EventConsumer): Promise<void> {
    const { db } = this.dialect
    const cursor = consumer.durable
      ? new DurableCursor(db, consumer.name, this.#node, this.#options.leaseMs)
      : null
    if (cursor) this.#cursors.set(consumer.name, cursor)
    let position: number | null = cursor ? null : await this.#startPosition()
    let failures = 0
    while (this.#isRunning) {
      try {
        if (cursor) position = await cursor.claim(() => newestSeq(db))
        if (position === null) {
          await this.#untilWoken()
          continue
        }
        const epoch = this.#wakeUps
        // Asked again after the await: what the consumer wants may have changed meanwhile (a
        // client connected, an endpoint was added), and events settled before it may go by.
        if (consumer.wantsEvents?.() === false) {
          const newest = await this.#newestSettled(epoch)
          if (consumer.wantsEvents() === false) {
            if (newest > position) {
              consumer.skipTo?.(newest)
              position = cursor && !(await cursor.advance(newest)) ? null : newest
            } else await cursor?.flush()
            failures = 0
            await this.#untilWoken(epoch)
            continue
          }
        }
        const events = await this.#tail.after(position, this.#options.batchSize, epoch)
        if (events.length === 0) {
          await consumer.caughtUp?.(position)
          await cursor?.flush()
          await this.#untilWoken(epoch)
          continue
        }
        await consumer.deliver(events)
        const last = events[events.length - 1]!.seq
        this.#noteSettled(last)
        if (cursor && !(await cursor.advance(last))) position = null
        else position = last
        failures = 0
        // Asking again would find nothing: wait for the next commit, notice or poll. The
        // position is written down once a wake-up finds nothing new (or by advance() each
        // second): under a steady load a write per batch would double the commits.
        const caughtUpAt = this.#wakeUps
        if (position !== null && this.#tail.isCaughtUp(position, caughtUpAt))
          await this.#untilWoken(caughtUpAt)
      } catch (error) {
        failures++
        this.#options.log?.warn(
          { err: error, consumer: consumer.name, failures },
          'delivering events failed; trying again',
        )
        // Local commits do not cut a backoff short: a broker that is down is not asked once per write.
        await this.#backOff(
          Math.min(MAX_BACKOFF_MS, this.#options.pollInterval * 2 ** Math.min(failures, 10)),
        )
      }
    }
    await cursor?.release().catch(() => {})
    this.#cursors.delete(consumer.name)
  }

  async #startPosition(): Promise<number> {
    for (;;) {
      try {
        return await newestSeq(this.dialect.db)
      } catch (error) {
        if (!this.#isRunning) return 0
        this.#options.log?.warn({ err: error }, 'reading the outbox failed; trying again')
        await this.#untilWoken()
      }
    }
  }

  /**
   * Waits for the next poll, a local commit, a notice from another node or `stop()`; at once
   * when a wake-up came after the `since`-th (it would otherwise be missed).
   */
  #untilWoken(since = this.#wakeUps): Promise<void> {
    if (!this.#isRunning || this.#wakeUps !== since) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.add(resolve))
  }

  /** Waits `ms`, cut short only by `stop()`. */
  #backOff(ms: number): Promise<void> {
    if (!this.#isRunning) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
        resolve()
      }
      const wake = () => {
        if (!this.#isRunning) done()
        else this.#waiters.add(wake)
      }
      const timer = setTimeout(done, ms)
      this.#waiters.add(wake)
    })
  }
}
