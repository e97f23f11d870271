import type { Cron } from 'croner'
import { type Kysely, sql } from 'kysely'
import { pausedCron } from '../config/index.js'
import { CRON_TABLE } from './migration.js'
import { type JobRow, toJob } from './store.js'
import type { CronEntry, CronSchedule } from './types.js'

/** The unique key of the job a tick enqueues: one job per entry and tick, whichever node claimed it. */
export function tickKey(name: string, tick: number): string {
  return `cron:${name}:${new Date(tick).toISOString()}`
}

/** Wakes up at each tick of each entry and hands the tick to `fire`. */
export class CronTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #entries: Array<{ entry: CronEntry; cron: Cron }> = []

  constructor(
    private readonly now: () => number,
    private readonly fire: (entry: CronEntry, tick: number) => Promise<void>,
  ) {}

  /** Checks each expression at once, so a typo fails at start-up rather than at 3 a.m. */
  add(entries: CronEntry[]): void {
    for (const entry of entries) {
      if (this.#entries.some((known) => known.entry.name === entry.name))
        throw new Error(`Two cron entries are named "${entry.name}".`)
      const cron = pausedCron(entry.schedule, entry.timezone)
      if (!cron.nextRun()) throw new Error(`The cron entry "${entry.name}" never runs.`)
      this.#entries.push({ entry, cron })
    }
  }

  start(): void {
    for (const { entry, cron } of this.#entries) this.#arm(entry, cron, this.now())
  }

  /** The entries, each with the time of its next tick (null when none comes). */
  list(): Array<{ entry: CronEntry; next: number | null }> {
    const now = new Date(this.now())
    return this.#entries.map(({ entry, cron }) => ({ entry, next: cron.nextRun(now)?.getTime() ?? null }))
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  #arm(entry: CronEntry, cron: Cron, after: number): void {
    const next = cron.nextRun(new Date(after))
    if (!next) return
    const tick = next.getTime()
    // setTimeout takes at most 2^31-1 ms; a tick further off is armed again on the way.
    const wait = Math.min(Math.max(0, tick - this.now()), 2 ** 31 - 1)
    const timer = setTimeout(() => {
      if (this.now() < tick - 1000) return this.#arm(entry, cron, after)
      this.fire(entry, tick).finally(() => {
        if (this.#timers.get(entry.name) === timer) this.#arm(entry, cron, tick)
      })
    }, wait)
    timer.unref()
    this.#timers.set(entry.name, timer)
  }
}

/**
 * Claims one tick of an entry for this node: of all nodes whose timers fire for the
 * same tick, exactly one moves `last_tick` forward (the others' conditional update
 * finds it moved already).
 */
export async function claimTick(db: Kysely<any>, name: string, tick: number): Promise<boolean> {
  const rows = await db
    .insertInto(CRON_TABLE)
    .values({ name, last_tick: tick })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ last_tick: sql`excluded.last_tick` })
        .where(sql<boolean>`${sql.ref(`${CRON_TABLE}.last_tick`)} < excluded.last_tick`),
    )
    .returning('name')
    .execute()
  return rows.length > 0
}

/**
 * The entries as the API shows them: the last tick any node claimed (from `_cron`) and the
 * job it enqueued, found by its unique key; null once that job was pruned.
 */
export async function describeSchedules(
  db: Kysely<any>,
  listed: Array<{ entry: CronEntry; next: number | null }>,
  jobsByKey: (keys: string[]) => Promise<JobRow[]>,
): Promise<CronSchedule[]> {
  const names = listed.map(({ entry }) => entry.name)
  const rows =
    names.length === 0
      ? []
      : await db.selectFrom(CRON_TABLE).select(['name', 'last_tick']).where('name', 'in', names).execute()
  const ticks = new Map(rows.map((row) => [row.name as string, Number(row.last_tick)]))
  const jobs = await jobsByKey([...ticks].map(([name, tick]) => tickKey(name, tick)))
  const byKey = new Map(jobs.map((row) => [row.unique_key, toJob(row)]))
  const iso = (time: number | null | undefined) => (time == null ? null : new Date(time).toISOString())
  return listed.map(({ entry, next }) => {
    const last = ticks.get(entry.name)
    return {
      id: entry.name,
      expression: entry.schedule,
      timezone: entry.timezone ?? 'Etc/UTC',
      job: entry.job,
      nextRun: iso(next),
      lastRun: iso(last),
      lastJob: last === undefined ? null : (byKey.get(tickKey(entry.name, last)) ?? null),
    }
  })
}
