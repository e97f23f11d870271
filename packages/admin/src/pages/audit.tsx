import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { auditQuery } from '../api/queries'
import type { AuditEntry } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

/** The events of GET /api/audit the server records (docs/security.md). */
const EVENTS = [
  'sign_in',
  'sign_in_failed',
  'lockout',
  'refresh_reuse',
  'sign_out',
  'session_revoked',
  'password_changed',
  'api_key_created',
  'api_key_revoked',
  'impersonation',
  'mfa_enabled',
  'mfa_failed',
  'mfa_disabled',
  'recovery_code_used',
  'passkey_added',
  'passkey_removed',
  'oauth2_linked',
  'oauth2_unlinked',
  'verified',
  'password_reset',
  'email_changed',
]

/** The security events: sign-ins, lockouts, impersonations, ended sessions, new keys and factors. */
export function AuditPage() {
  const [page, setPage] = useState(1)
  const [event, setEvent] = useState('')
  const [recordText, setRecordText] = useState('')
  const [recordId, setRecordId] = useState('')
  const audit = useQuery(
    auditQuery({ page, perPage: 50, event: event || undefined, recordId: recordId || undefined }),
  )
  return (
    <>
      <PageHeader title="Audit log" />
      <form
        className="toolbar"
        aria-label="Filter the audit log"
        onSubmit={(submitted) => {
          submitted.preventDefault()
          setRecordId(recordText.trim())
          setPage(1)
        }}
      >
        <div className="field">
          <label htmlFor="audit-event">Event</label>
          <select
            id="audit-event"
            value={event}
            onChange={(change) => {
              setEvent(change.target.value)
              setPage(1)
            }}
          >
            <option value="">any</option>
            {EVENTS.map((one) => (
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
                onPage={setPage}
              />
            </>
          )
        }
      </QueryView>
    </>
  )
}
