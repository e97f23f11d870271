import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { jobsQuery } from '../api/queries'
import type { Job } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/jobs')

export function JobsPage() {
  const { page = 1 } = route.useSearch()
  const navigate = route.useNavigate()
  const jobs = useQuery(jobsQuery({ page, perPage: 50, sort: '-created' }))
  return (
    <>
      <PageHeader title="Jobs" />
      <QueryView query={jobs} what="jobs">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>No jobs yet. Jobs appear here when hooks, webhooks or cron enqueue them.</Empty>
          ) : (
            <>
              <DataTable<Job>
                caption="Jobs"
                rows={list.items}
                columns={[
                  { header: 'Name', cell: (j) => j.name },
                  { header: 'Queue', cell: (j) => j.queue },
                  { header: 'State', cell: (j) => j.state },
                  { header: 'Attempts', cell: (j) => `${j.attempts} of ${j.maxAttempts}` },
                  { header: 'Runs at', cell: (j) => <When iso={j.runAt} /> },
                  { header: 'Last error', cell: (j) => j.lastError ?? '–' },
                ]}
              />
              <Pager
                label="Jobs"
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
