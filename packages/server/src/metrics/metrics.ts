import client from 'prom-client'
import { FastCounter, FastHistogram } from './series.js'

/** Label values by label name. */
export type Labels<Name extends string> = Partial<Record<Name, string>>

/** A number that only goes up: requests, failures, cache hits. */
export interface Counter<Name extends string = never> {
  inc(labels?: Labels<Name>, by?: number): void
}

/** How observations spread over buckets: durations in seconds, sizes in bytes. */
export interface Histogram<Name extends string = never> {
  observe(labels: Labels<Name>, value: number): void
}

/** One value of a gauge, read when the metrics are scraped. */
export interface GaugeSample<Name extends string = never> {
  labels?: Labels<Name>
  value: number
}

export interface GaugeOptions {
  /**
   * The reading costs a query: its answer is kept for the configured cache time, and
   * scrapes that meet while it runs share one reading, so a scrape storm asks the
   * database once per cache time.
   */
  isCostly?: boolean
}

export interface MetricsOptions {
  /** Added to every series as `node_id`, so the series of a cluster's nodes stay apart. */
  nodeId: string
  /** How long a costly gauge's reading is reused, in ms. */
  cacheMs: number
  /** Where a gauge whose reading failed is reported; the scrape goes on without it. */
  log?: { warn(object: object, message: string): void }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * The metrics of one Plinth instance, in the Prometheus text format. Each instance has a
 * registry of its own, so two apps in one process never mix their numbers. Other domains
 * add their own series through `counter`, `histogram` and `gauge`.
 *
 * @example
 * const hits = metrics.counter('plinth_cache_hits_total', 'Reads answered from the cache.', ['cache'])
 * hits.inc({ cache: 'records' })
 * metrics.gauge('plinth_jobs', 'Jobs by state.', ['state'], () => jobs.countByState(), { isCostly: true })
 */
export class Metrics {
  readonly #registry = new client.Registry()
  readonly #options: MetricsOptions
  #hasProcessMetrics = false

  constructor(options: MetricsOptions) {
    this.#options = options
    this.#registry.setDefaultLabels({ node_id: options.nodeId })
  }

  counter<Name extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Name[] = [],
  ): Counter<Name> {
    checkNames(name, labelNames)
    const counter = new FastCounter(name, help, labelNames)
    this.#registry.registerMetric(counter as unknown as client.Metric)
    return { inc: (labels = {}, by = 1) => counter.inc(labels, by) }
  }

  histogram<Name extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Name[],
    buckets: number[],
  ): Histogram<Name> {
    checkNames(name, labelNames)
    const histogram = new FastHistogram(
      name,
      help,
      labelNames,
      [...buckets].sort((a, b) => a - b),
    )
    this.#registry.registerMetric(histogram as unknown as client.Metric)
    return { observe: (labels, value) => histogram.observe(labels, value) }
  }

  /** A gauge whose samples `read` answers at each scrape; a label set it leaves out is not shown. */
  gauge<Name extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Name[],
    read: () => GaugeSample<Name>[] | Promise<GaugeSample<Name>[]>,
    options: GaugeOptions = {},
  ): void {
    checkNames(name, labelNames)
    const sample = options.isCostly ? cached(read, this.#options.cacheMs) : read
    const log = this.#options.log
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [this.#registry],
      async collect() {
        this.reset()
        let samples: GaugeSample<Name>[]
        try {
          samples = await sample()
        } catch (error) {
          log?.warn({ err: error, metric: name }, 'reading a metric failed; the scrape goes on without it')
          return
        }
        for (const { labels, value } of samples) this.set((labels ?? {}) as client.LabelValues<Name>, value)
      },
    })
  }

  get contentType(): string {
    return this.#registry.contentType
  }

  /** Every series in the Prometheus text format. */
  async exposition(): Promise<string> {
    if (!this.#hasProcessMetrics) {
      // Started by the first scrape, not at start: the GC observer and the event-loop
      // histogram they start cannot be stopped, and most processes (tests, CLI commands)
      // are never scraped. The event-loop figures cover the time since the first scrape.
      client.collectDefaultMetrics({ register: this.#registry })
      this.#hasProcessMetrics = true
    }
    return this.#registry.metrics()
  }
}

function checkNames(name: string, labelNames: readonly string[]): void {
  if (!NAME.test(name)) throw new Error(`"${name}" is not a Prometheus metric name.`)
  for (const label of labelNames)
    if (!LABEL.test(label) || label.startsWith('__') || label === 'node_id')
      throw new Error(`"${label}" cannot be a label of ${name}.`)
}

/** A reading reused for `ms`; callers that meet while it runs wait for the same one. */
function cached<T>(read: () => T | Promise<T>, ms: number): () => Promise<T> {
  let kept: { value: T; at: number } | null = null
  let pending: Promise<T> | null = null
  return async function readCached() {
    if (kept && Date.now() - kept.at < ms) return kept.value
    pending ??= (async () => {
      try {
        const value = await read()
        kept = { value, at: Date.now() }
        return value
      } finally {
        pending = null
      }
    })()
    return pending
  }
}
