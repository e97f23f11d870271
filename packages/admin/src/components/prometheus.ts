/** One sample of a Prometheus text exposition: a series' name, its labels and its value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

function labelValue(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
}

function numberOf(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  return Number(text)
}

/** Every sample of a Prometheus text exposition (comments and blank lines are skipped). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (!match) continue
    const [, name, labelText = '', value] = match as unknown as [string, string, string | undefined, string]
    const number = numberOf(value)
    if (Number.isNaN(number) && value !== 'NaN') continue
    const labels: Record<string, string> = {}
    for (const [, key, raw] of labelText.matchAll(LABEL)) labels[key as string] = labelValue(raw as string)
    samples.push({ name, labels, value: number })
  }
  return samples
}

/** The sum of the samples of one series name that pass `keep`. */
export function total(
  samples: Sample[],
  name: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): number {
  let sum = 0
  for (const sample of samples) if (sample.name === name && keep(sample.labels)) sum += sample.value
  return sum
}

/**
 * A counter's increase between two readings. A counter that went down was reset (the process
 * restarted), so, as Prometheus does, the new reading is all of the increase.
 */
export function increase(before: number, after: number): number {
  return after >= before ? after - before : after
}

/** A histogram's cumulative buckets, summed over all its series, by upper bound. */
export function buckets(samples: Sample[], histogram: string): Map<number, number> {
  const byBound = new Map<number, number>()
  for (const sample of samples) {
    if (sample.name !== `${histogram}_bucket` || sample.labels.le === undefined) continue
    const bound = numberOf(sample.labels.le)
    byBound.set(bound, (byBound.get(bound) ?? 0) + sample.value)
  }
  return byBound
}

/** The buckets' increase between two readings. */
export function bucketIncrease(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  const delta = new Map<number, number>()
  for (const [bound, count] of after) delta.set(bound, increase(before.get(bound) ?? 0, count))
  return delta
}

/**
 * The q-quantile of cumulative histogram buckets, interpolated linearly within the bucket that
 * holds it, as PromQL's histogram_quantile does. Null when nothing was observed; the highest
 * finite bound when the quantile falls in the +Inf bucket.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number | null {
  const sorted = [...cumulative].sort(([a], [b]) => a - b)
  const count = sorted.at(-1)?.[1] ?? 0
  if (count <= 0) return null
  const rank = q * count
  let lowerBound = 0
  let lowerCount = 0
  for (const [bound, cumulativeCount] of sorted) {
    if (cumulativeCount >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lowerBound
      const inBucket = cumulativeCount - lowerCount
      return inBucket === 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket
    }
    lowerBound = bound
    lowerCount = cumulativeCount
  }
  return lowerBound
}

/** What the metrics page draws for one interval between two readings. */
export interface Point {
  at: number
  requestsPerSecond: number
  errorsPerSecond: number
  p50Ms: number | null
  p99Ms: number | null
  dbMsPerSecond: number
  realtimeConnections: number
}

export interface Reading {
  at: number
  samples: Sample[]
}

const REQUESTS = 'plinth_http_requests_total'
const LATENCY = 'plinth_http_request_duration_seconds'
const DB_TIME = 'plinth_db_query_duration_seconds_sum'

const isServerError = (labels: Record<string, string>) => (labels.status ?? '').startsWith('5')

/** Rates and quantiles over the interval from one reading of /api/metrics to the next. */
export function pointBetween(before: Reading, after: Reading): Point {
  const seconds = Math.max((after.at - before.at) / 1000, 0.001)
  const rate = (name: string, keep?: (labels: Record<string, string>) => boolean) =>
    increase(total(before.samples, name, keep), total(after.samples, name, keep)) / seconds
  const latency = bucketIncrease(buckets(before.samples, LATENCY), buckets(after.samples, LATENCY))
  const ms = (quantile: number | null) => (quantile === null ? null : quantile * 1000)
  return {
    at: after.at,
    requestsPerSecond: rate(REQUESTS),
    errorsPerSecond: rate(REQUESTS, isServerError),
    p50Ms: ms(histogramQuantile(0.5, latency)),
    p99Ms: ms(histogramQuantile(0.99, latency)),
    dbMsPerSecond: rate(DB_TIME) * 1000,
    realtimeConnections: total(after.samples, 'plinth_realtime_connections'),
  }
}
