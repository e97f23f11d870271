import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { useEffect, useState } from 'react'
import { auditQuery } from '../api/queries'
import type { AuditEntry } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/audit')

/** The security events: sign-ins, lockouts, impersonations, ended sessions, new keys and factors. */
export function AuditPage() {
  const { page = 1, event, recordId } = route.useSearch()
  const navigate = route.useNavigate()
  const [recordText, setRecordText] = useState(recordId ?? '')
  // Back, forward and links change the record id under the page: the box shows the one applied.
  useEffect(() => setRecordText(recordId ?? ''), [recordId])
  const audit = useQuery(auditQuery({ page, perPage: 50, event, recordId }))
  const events = audit.data?.events
  // A kind the server does not record (an old or mistyped link) is dropped: every event shows.
  useEffect(() => {
    if (event && events && !events.includes(event))
      void navigate({
        search: (previous) => ({ ...previous, event: undefined, page: undefined }),
        replace: true,
      })
  }, [event, events, navigate])
  /** A changed filter starts again at the first page. */
  const applyFilter = (next: { event?: string; recordId?: string }) =>
    void navigate({
      search: {
        ...(next.event ? { event: next.event } : {}),
        ...(next.recordId ? { recordId: next.recordId } : {}),
      },
    })
  return (
    <>
      <PageHeader title="Audit log" />
      <form
        className="toolbar"
        aria-label="Filter the audit log"
        onSubmit={(submitted) => {
          submitted.preventDefault()
          applyFilter({ event, recordId: recordText.trim() })
        }}
      >
        <div className="field">
          <label htmlFor="audit-event">Event</label>
          <select
            id="audit-event"
            value={event ?? ''}
            onChange={(change) => applyFilter({ event: change.target.value, recordId })}
          >
            <option value="">any</option>
            {(events ?? (event ? [event] : [])).map((one) => (
              <option key={one} value={one}>
                {one.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-record">Record id</label>
          <input
            id="audit-record"
            value={recordText}
            onChange={(change) => setRecordText(change.target.value)}
          />
        </div>
        <button type="submit">Apply</button>
      </form>
      <QueryView query={audit} what="the audit log">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>No events match.</Empty>
          ) : (
            <>
              <DataTable<AuditEntry>
                caption="Audit log"
                rows={list.items}
                columns={[
                  { header: 'Time', cell: (e) => <When iso={e.at} /> },
                  { header: 'Event', cell: (e) => e.event.replaceAll('_', ' ') },
                  { header: 'Record', cell: (e) => (e.recordId ? <code>{e.recordId}</code> : '–') },
                  { header: 'Actor', cell: (e) => (e.actor ? <code>{e.actor}</code> : 'the record itself') },
                  { header: 'IP', cell: (e) => e.ip ?? '–' },
                  {
                    header: 'Detail',
                    cell: (e) =>
                      Object.keys(e.detail).length ? <code>{JSON.stringify(e.detail)}</code> : '–',
                  },
                ]}
              />
              <Pager
                label="Audit log"
                page={list.page}
                totalPages={list.totalPages}
                totalItems={list.totalItems}
                onPage={(next) => void navigate({ search: (previous) => ({ ...previous, page: next }) })}
              />
            </>
          )
        }
      </QueryView>
    </>
  )
}
