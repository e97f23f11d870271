import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { api } from '../api/client'
import { JOB_STATES } from '../api/operation-filters'
import { describeError } from '../api/problem'
import { jobsQuery } from '../api/queries'
import type { Job } from '../api/types'
import { CronSchedules } from '../components/cron-schedules'
import { DataTable, Pager, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/jobs')
const stateLabel: Record<Job['state'], string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed, will run again',
  dead: 'dead (out of attempts)',
}

/** The job queue (filter by state, retry what failed, delete what is not running) and the cron schedules. */
export function JobsPage() {
  const { page = 1, state } = route.useSearch()
  const navigate = route.useNavigate()
  const jobs = useQuery(jobsQuery({ page, perPage: 50, sort: '-created', state }))
  return (
    <>
      <PageHeader title="Jobs" />
      <div className="toolbar">
        <div className="field">
          <label htmlFor="job-state">State</label>
          <select
            id="job-state"
            value={state ?? ''}
            onChange={(event) => {
              const next = JOB_STATES.find((one) => one === event.target.value)
              void navigate({ search: next ? { state: next } : {} })
            }}
          >
            <option value="">any</option>
            {JOB_STATES.map((one) => (
              <option key={one} value={one}>
                {stateLabel[one]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <QueryView query={jobs} what="jobs">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>
              {state
                ? 'No jobs in this state.'
                : 'No jobs yet. Jobs appear here when hooks, webhooks or cron enqueue them.'}
            </Empty>
          ) : (
            <>
              <DataTable<Job>
                caption="Jobs"
                rows={list.items}
                columns={[
                  { header: 'Name', cell: (j) => j.name },
                  { header: 'Queue', cell: (j) => j.queue },
                  { header: 'State', cell: (j) => stateLabel[j.state] },
                  { header: 'Attempts', cell: (j) => `${j.attempts} of ${j.maxAttempts}` },
                  { header: 'Runs at', cell: (j) => <When iso={j.runAt} /> },
                  { header: 'Last error', cell: (j) => j.lastError ?? '–' },
                  { header: 'Actions', cell: (j) => <JobActions job={j} /> },
                ]}
              />
              <Pager
                label="Jobs"
                page={list.page}
                totalPages={list.totalPages}
                totalItems={list.totalItems}
                onPage={(next) => void navigate({ search: (previous) => ({ ...previous, page: next }) })}
              />
            </>
          )
        }
      </QueryView>
      <CronSchedules />
    </>
  )
}

function JobActions({ job }: { job: Job }) {
  const queryClient = useQueryClient()
  const path = `/api/jobs/${encodeURIComponent(job.id)}`
  const done = () => queryClient.invalidateQueries({ queryKey: ['jobs'] })
  const retry = useMutation({ mutationFn: () => api(`${path}/retry`, { method: 'POST' }), onSuccess: done })
  const remove = useMutation({ mutationFn: () => api(path, { method: 'DELETE' }), onSuccess: done })
  const error = retry.error ?? remove.error
  return (
    <div className="row-actions">
      {(job.state === 'failed' || job.state === 'dead') && (
        <button
          type="button"
          aria-label={`Retry job ${job.name} ${job.id}`}
          disabled={retry.isPending}
          onClick={() => retry.mutate()}
        >
          Retry
        </button>
      )}
      {job.state !== 'running' && (
        <button
          type="button"
          aria-label={`Delete job ${job.name} ${job.id}`}
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete the job ${job.name}? It will not run again.`)) remove.mutate()
          }}
        >
          Delete
        </button>
      )}
      {error && <span role="alert">{describeError(error)}</span>}
    </div>
  )
}
