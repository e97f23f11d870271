type Labels = Readonly<Record<string, string | undefined>>

/** What prom-client's registry reads from a metric at a scrape (its `get()`), in its words. */
interface Reading {
  name: string
  help: string
  type: 'counter' | 'histogram'
  aggregator: 'sum'
  values: {
    metricName?: string
    labels: Record<string, string | number>
    /** Shown after the default labels, as prom-client shows a histogram's own labels. */
    sharedLabels?: Record<string, string>
    value: number
  }[]
}

/**
 * The series of one metric, found by walking one map per label name: an answer counts a
 * request and times it, and a query is timed, so this runs several times per request.
 * prom-client validates and hashes the labels on every `inc` and `observe`; here that
 * happens once per new series.
 */
class SeriesTable<Series> {
  #root = new Map<string | undefined, unknown>()
  #all: { labels: Record<string, string>; series: Series }[] = []

  constructor(
    readonly metric: string,
    readonly labelNames: readonly string[],
    private readonly create: () => Series,
  ) {}

  find(labels: Labels): Series {
    let level = this.#root
    for (let i = 0; i < this.labelNames.length - 1; i++) {
      const value = labels[this.labelNames[i]!]
      let next = level.get(value) as Map<string | undefined, unknown> | undefined
      if (!next) {
        next = new Map()
        level.set(value, next)
      }
      level = next
    }
    const last = this.labelNames.length > 0 ? labels[this.labelNames.at(-1)!] : undefined
    const found = level.get(last) as Series | undefined
    return found ?? this.#add(level, last, labels)
  }

  #add(level: Map<string | undefined, unknown>, last: string | undefined, labels: Labels): Series {
    for (const name of Object.keys(labels))
      if (!this.labelNames.includes(name)) throw new Error(`"${name}" is not a label of ${this.metric}.`)
    const series = this.create()
    level.set(last, series)
    // Only the labels given, as prom-client shows them: an absent label is not an empty one.
    const shown: Record<string, string> = {}
    for (const [name, value] of Object.entries(labels)) if (value !== undefined) shown[name] = value
    this.#all.push({ labels: shown, series })
    return series
  }

  get all(): readonly { labels: Record<string, string>; series: Series }[] {
    return this.#all
  }

  clear(): void {
    this.#root = new Map()
    this.#all = []
  }
}

/** A counter in prom-client's registry, counted without prom-client's per-call work. */
export class FastCounter {
  readonly type = 'counter'
  readonly #table: SeriesTable<{ value: number }>

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    this.#table = new SeriesTable(name, labelNames, () => ({ value: 0 }))
  }

  inc(labels: Labels, by: number): void {
    if (!(by >= 0)) throw new Error(`A counter only goes up; ${this.name} was given ${by}.`)
    this.#table.find(labels).value += by
  }

  get(): Reading {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: 'sum',
      values: this.#table.all.map(({ labels, series }) => ({ labels: { ...labels }, value: series.value })),
    }
  }

  reset(): void {
    this.#table.clear()
  }
}

/** A histogram in prom-client's registry, observed without prom-client's per-call work. */
export class FastHistogram {
  readonly type = 'histogram'
  readonly #table: SeriesTable<{ counts: number[]; sum: number; count: number }>

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    if (labelNames.includes('le')) throw new Error(`"le" cannot be a label of ${name}.`)
    this.#table = new SeriesTable(name, labelNames, () => ({
      counts: new Array<number>(buckets.length).fill(0),
      sum: 0,
      count: 0,
    }))
  }

  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) throw new Error(`${this.name} was given ${value}.`)
    const series = this.#table.find(labels)
    series.sum += value
    series.count++
    for (let i = 0; i < this.buckets.length; i++)
      if (value <= this.buckets[i]!) {
        series.counts[i]!++
        return
      }
  }

  get(): Reading {
    const values: Reading['values'] = []
    for (const { labels, series } of this.#table.all) {
      let cumulative = 0
      const bucket = (le: number | string, value: number) =>
        values.push({ metricName: `${this.name}_bucket`, labels: { le }, sharedLabels: labels, value })
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]!
        bucket(bound, cumulative)
      })
      bucket('+Inf', series.count)
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: labels, value: series.sum })
      values.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: labels, value: series.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values }
  }

  reset(): void {
    this.#table.clear()
  }
}
