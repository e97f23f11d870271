import { useQuery } from '@tanstack/react-query'
import { metricsQuery } from '../api/queries'
import { DataTable } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'

interface Family {
  id: string
  type: string
  help: string
  samples: { series: string; value: string }[]
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/

/** The families of a Prometheus text exposition, with their samples. */
function parseMetrics(text: string): Family[] {
  const families = new Map<string, Family>()
  const family = (name: string) => {
    let found = families.get(name)
    if (!found) {
      found = { id: name, type: 'untyped', help: '', samples: [] }
      families.set(name, found)
    }
    return found
  }
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      if (kind === 'HELP') family(name).help = rest
      else family(name).type = rest
      continue
    }
    const sample = SAMPLE.exec(line)
    if (!sample) continue
    const [, name, labels = '', value] = sample as unknown as [string, string, string | undefined, string]
    // Histogram and summary samples carry suffixes; they belong to the family without them.
    const owner = families.has(name) ? name : name.replace(/_(bucket|sum|count|created|total)$/, '')
    family(families.has(owner) ? owner : name).samples.push({ series: name + labels, value })
  }
  return [...families.values()]
}

function familyValue(family: Family): string {
  if (family.samples.length === 1) return family.samples[0]!.value
  return `${family.samples.length} series`
}

/** What the server exposes at /api/metrics for Prometheus, as a table. */
export function MetricsPage() {
  const metrics = useQuery({ ...metricsQuery(), refetchInterval: 15_000 })
  return (
    <>
      <PageHeader title="Metrics" />
      <p>The same numbers Prometheus scrapes from /api/metrics, read again every 15 seconds.</p>
      <QueryView query={metrics} what="metrics">
        {(text) => (
          <DataTable<Family>
            caption="Metrics"
            rows={parseMetrics(text)}
            columns={[
              { header: 'Name', cell: (f) => <code>{f.id}</code> },
              { header: 'Type', cell: (f) => f.type },
              { header: 'Value', cell: familyValue },
              { header: 'Meaning', cell: (f) => f.help },
            ]}
          />
        )}
      </QueryView>
    </>
  )
}
