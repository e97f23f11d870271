import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { useEffect, useState } from 'react'
import { logStatsQuery, logsQuery } from '../api/queries'
import type { RequestLog } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { LineChart } from '../components/line-chart'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/logs')

/** The request logs: a filter in the records' language, a chart per minute, each request's details. */
export function LogsPage() {
  const { page = 1, filter } = route.useSearch()
  const navigate = route.useNavigate()
  const [text, setText] = useState(filter ?? '')
  // Back, forward and links change the filter under the page: the box shows the one applied.
  useEffect(() => setText(filter ?? ''), [filter])
  const [shown, setShown] = useState<RequestLog | null>(null)
  const logs = useQuery(logsQuery({ page, perPage: 50, sort: '-created', filter }))
  const stats = useQuery(logStatsQuery(filter))
  return (
    <>
      <PageHeader title="Request logs" />
      <form
        className="toolbar"
        aria-label="Filter request logs"
        onSubmit={(event) => {
          event.preventDefault()
          const next = text.trim()
          void navigate({ search: next ? { filter: next } : {} })
        }}
      >
        <div className="field grow">
          <label htmlFor="logs-filter">Filter</label>
          <input
            id="logs-filter"
            value={text}
            placeholder='status >= 500 && url ~ "/api/collections"'
            aria-describedby="logs-filter-hint"
            onChange={(event) => setText(event.target.value)}
          />
          <p className="hint" id="logs-filter-hint">
            The records' filter language over method, route, url, status, duration, ip, userAgent, requestId,
            authId and created.
          </p>
        </div>
        <button type="submit">Apply</button>
      </form>
      {stats.data && stats.data.items.length > 1 && (
        <div className="charts">
          <LineChart
            title="Requests per minute"
            unit="requests"
            format={(value) => value.toFixed(0)}
            lines={[
              { label: 'all', values: stats.data.items.map((i) => i.requests), className: 'series-1' },
              { label: '5xx', values: stats.data.items.map((i) => i.serverErrors), className: 'series-3' },
            ]}
          />
        </div>
      )}
      <QueryView query={logs} what="request logs">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>{filter ? 'No request matches the filter.' : 'No requests logged yet.'}</Empty>
          ) : (
            <>
              <DataTable<RequestLog>
                caption="Request logs"
                rows={list.items}
                columns={[
                  { header: 'Time', cell: (l) => <When iso={l.created} /> },
                  { header: 'Method', cell: (l) => l.method },
                  { header: 'URL', cell: (l) => <code>{l.url}</code> },
                  { header: 'Status', cell: (l) => l.status },
                  { header: 'Duration', cell: (l) => `${l.duration.toFixed(1)} ms` },
                  { header: 'IP', cell: (l) => l.ip },
                  {
                    header: 'Details',
                    cell: (l) => (
                      <button
                        type="button"
                        aria-label={`Details of ${l.method} ${l.url} at ${l.created}`}
                        aria-expanded={shown?.id === l.id}
                        onClick={() => setShown(shown?.id === l.id ? null : l)}
                      >
                        Details
                      </button>
                    ),
                  },
                ]}
              />
              <Pager
                label="Request logs"
                page={list.page}
                totalPages={list.totalPages}
                totalItems={list.totalItems}
                onPage={(next) => void navigate({ search: (previous) => ({ ...previous, page: next }) })}
              />
            </>
          )
        }
      </QueryView>
      {shown && (
        <section className="panel" aria-labelledby="log-details">
          <h2 id="log-details">
            {shown.method} {shown.url}
          </h2>
          <dl className="facts">
            {Object.entries(shown).map(([key, value]) => (
              <div key={key} className="fact">
                <dt>{key}</dt>
                <dd>{value === null || value === '' ? '–' : String(value)}</dd>
              </div>
            ))}
          </dl>
          <button type="button" onClick={() => setShown(null)}>
            Close the details
          </button>
        </section>
      )}
    </>
  )
}
