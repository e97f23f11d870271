import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import { describeError } from '../api/problem'
import { cronsQuery, operationKeys } from '../api/queries'
import type { CronEntry, Job } from '../api/types'
import { DataTable, When } from './data-table'
import { QueryView } from './query-view'
import { Empty } from './status'

/** The cron entries this node runs, with their next and last run, each of which can run now. */
export function CronSchedules() {
  const crons = useQuery(cronsQuery())
  return (
    <section aria-labelledby="crons-heading">
      <h2 id="crons-heading">Schedules</h2>
      <QueryView query={crons} what="schedules">
        {(entries) =>
          entries.length === 0 ? (
            <Empty>No cron schedules.</Empty>
          ) : (
            <DataTable<CronEntry>
              caption="Schedules"
              rows={entries}
              columns={[
                { header: 'Id', cell: (c) => c.id },
                { header: 'Schedule', cell: (c) => <code>{`${c.expression} (${c.timezone})`}</code> },
                { header: 'Job', cell: (c) => c.job },
                { header: 'Next run', cell: (c) => <When iso={c.nextRun} /> },
                { header: 'Last run', cell: (c) => <When iso={c.lastRun} /> },
                {
                  header: 'Last outcome',
                  cell: (c) =>
                    c.lastJob
                      ? `${c.lastJob.state}${c.lastJob.lastError ? `: ${c.lastJob.lastError}` : ''}`
                      : '–',
                },
                { header: 'Actions', cell: (c) => <RunNow entry={c} /> },
              ]}
            />
          )
        }
      </QueryView>
    </section>
  )
}

function RunNow({ entry }: { entry: CronEntry }) {
  const queryClient = useQueryClient()
  const run = useMutation({
    mutationFn: () => api<Job>(`/api/crons/${encodeURIComponent(entry.id)}`, { method: 'POST' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['jobs'] })
      await queryClient.invalidateQueries({ queryKey: operationKeys.crons })
    },
  })
  return (
    <div className="row-actions">
      <button
        type="button"
        aria-label={`Run ${entry.id} now`}
        disabled={run.isPending}
        onClick={() => run.mutate()}
      >
        Run now
      </button>
      {run.data && <span role="status">Queued as job {run.data.id}.</span>}
      {run.error && <span role="alert">{describeError(run.error)}</span>}
    </div>
  )
}
