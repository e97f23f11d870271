import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { expect } from 'vitest'
import type { TestApp } from './app.js'

export type MetricFamilies = ReturnType<typeof parsePrometheusTextFormat>
type Sample = MetricFamilies[number]['metrics'][number]

const HISTOGRAM_TYPE = /^# TYPE (\S+) histogram$/

/**
 * The text parsed as Prometheus parses it. The parser folds every label set of a histogram
 * into one, so a histogram's lines are read as the plain series they are: `<name>_bucket`
 * (with `le`), `<name>_sum` and `<name>_count`, each sample with its own labels.
 */
export function parseMetrics(text: string): MetricFamilies {
  const lines = text.split('\n')
  const histograms = new Set(lines.map((line) => HISTOGRAM_TYPE.exec(line)?.[1]).filter(Boolean))
  const plain = lines.filter((line) => {
    const [hash, kind, name] = line.split(' ')
    return !(hash === '#' && (kind === 'TYPE' || kind === 'HELP') && histograms.has(name))
  })
  return parsePrometheusTextFormat(plain.join('\n'))
}

/** `GET /api/metrics` as a superuser (or with `auth`), parsed. */
export async function scrape(t: TestApp, auth?: string): Promise<MetricFamilies> {
  const answer = await t.request({ method: 'GET', url: '/api/metrics', ...(auth ? { auth } : {}) })
  expect(answer.statusCode, answer.body).toBe(200)
  expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseMetrics(answer.body)
}

/**
 * The samples of a series whose labels include `labels`. A histogram's series come in
 * turns (buckets, sum and count of one label set, then the next), so one name may head
 * several families.
 */
export function samples(
  families: MetricFamilies,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return families
    .filter((family) => family.name === name)
    .flatMap((family) => family.metrics)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
}

/** The value of the one sample with these labels; 0 when there is none yet (a counter never incremented). */
export function sampleValue(
  families: MetricFamilies,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples(families, name, labels)
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1)
  return found[0] ? Number(found[0].value) : 0
}
