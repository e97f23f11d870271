import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { logsQuery } from '../api/queries'
import type { RequestLog } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/logs')

export function LogsPage() {
  const { page = 1 } = route.useSearch()
  const navigate = route.useNavigate()
  const logs = useQuery(logsQuery({ page, perPage: 50, sort: '-created' }))
  return (
    <>
      <PageHeader title="Request logs" />
      <QueryView query={logs} what="request logs">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>No requests logged yet.</Empty>
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
                ]}
              />
              <Pager
                label="Request logs"
                page={list.page}
                totalPages={list.totalPages}
                totalItems={list.totalItems}
                onPage={(next) => void navigate({ search: { page: next } })}
              />
            </>
          )
        }
      </QueryView>
    </>
  )
}
