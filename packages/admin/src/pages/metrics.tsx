import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { metricsQuery } from '../api/queries'
import { DataTable } from '../components/data-table'
import { LineChart } from '../components/line-chart'
import { type Point, parseSamples, pointBetween, type Reading } from '../components/prometheus'
import { PageHeader, QueryView } from '../components/query-view'

const INTERVAL_MS = 5_000
/** Five minutes of points at one reading every five seconds. */
const KEPT_READINGS = 61

interface Family {
  id: string
  type: string
  help: string
  series: number
  value: string
}

/** The families of the exposition (from its HELP and TYPE lines), for the table of all series. */
function families(text: string): Family[] {
  const found = new Map<string, Family>()
  const family = (name: string) => {
    let one = found.get(name)
    if (!one) {
      one = { id: name, type: 'untyped', help: '', series: 0, value: '' }
      found.set(name, one)
    }
    return one
  }
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (!meta) continue
    const [, kind, name, rest] = meta as unknown as [string, string, string, string]
    if (kind === 'HELP') family(name).help = rest
    else family(name).type = rest
  }
  for (const sample of parseSamples(text)) {
    // Histogram and summary samples carry a suffix; they belong to the family without it.
    const owner = found.has(sample.name) ? sample.name : sample.name.replace(/_(bucket|sum|count)$/, '')
    const one = found.get(owner)
    if (!one) continue
    one.series += 1
    one.value = one.series === 1 ? String(sample.value) : `${one.series} series`
  }
  return [...found.values()]
}

/** Readings of /api/metrics taken while the page is open, and the points between them. */
function useReadings(text: string | undefined, at: number): Point[] {
  const [readings, setReadings] = useState<Reading[]>([])
  useEffect(() => {
    if (text === undefined) return
    setReadings((kept) => [...kept, { at, samples: parseSamples(text) }].slice(-KEPT_READINGS))
  }, [text, at])
  return readings.slice(1).map((reading, index) => pointBetween(readings[index] as Reading, reading))
}

const ms = (value: number) => value.toFixed(value < 10 ? 1 : 0)

/**
 * The server's own Prometheus numbers, read every five seconds: rates and latency quantiles are
 * computed here from the counters and histogram buckets, between one reading and the next.
 */
export function MetricsPage() {
  const metrics = useQuery({ ...metricsQuery(), refetchInterval: INTERVAL_MS })
  const points = useReadings(metrics.data, metrics.dataUpdatedAt)
  const of = <K extends keyof Point>(key: K) => points.map((point) => point[key])
  return (
    <>
      <PageHeader title="Metrics" />
      <p>
        This node's numbers from /api/metrics (the ones Prometheus scrapes), read every 5 seconds while the
        page is open. The charts start with the second reading.
      </p>
      <section aria-labelledby="charts-heading" className="charts">
        <h2 id="charts-heading">Last five minutes</h2>
        <LineChart
          title="Requests"
          unit="per second"
          lines={[{ label: 'all', values: of('requestsPerSecond'), className: 'series-1' }]}
        />
        <LineChart
          title="Latency"
          unit="ms"
          format={ms}
          lines={[
            { label: 'p50', values: of('p50Ms'), className: 'series-1' },
            { label: 'p99', values: of('p99Ms'), className: 'series-2' },
          ]}
        />
        <LineChart
          title="Server errors (5xx)"
          unit="per second"
          lines={[{ label: '5xx', values: of('errorsPerSecond'), className: 'series-3' }]}
        />
        <LineChart
          title="Database time"
          unit="ms per second"
          format={ms}
          lines={[{ label: 'statements', values: of('dbMsPerSecond'), className: 'series-1' }]}
        />
        <LineChart
          title="Realtime connections"
          unit="open"
          format={(value) => value.toFixed(0)}
          lines={[{ label: 'SSE and WebSocket', values: of('realtimeConnections'), className: 'series-2' }]}
        />
      </section>
      <section aria-labelledby="series-heading">
        <h2 id="series-heading">All series</h2>
        <QueryView query={metrics} what="metrics">
          {(text) => (
            <DataTable<Family>
              caption="Metrics"
              rows={families(text)}
              columns={[
                { header: 'Name', cell: (f) => <code>{f.id}</code> },
                { header: 'Type', cell: (f) => f.type },
                { header: 'Value', cell: (f) => f.value },
                { header: 'Meaning', cell: (f) => f.help },
              ]}
            />
          )}
        </QueryView>
      </section>
    </>
  )
}
