import { useQuery } from '@tanstack/react-query'
import { sessionsQuery } from '../api/queries'
import type { Session } from '../api/types'
import { DataTable, When } from '../components/data-table'
import { EffectiveSettings, TestMail } from '../components/effective-settings'
import { Passkeys } from '../components/passkeys'
import { PageHeader, QueryView } from '../components/query-view'
import { SecondFactor } from '../components/second-factor'

/** How the signed-in superuser signs in (second factor, passkeys, sessions), the configuration in effect, and a test mail. */
export function SettingsPage() {
  const sessions = useQuery(sessionsQuery())
  return (
    <>
      <PageHeader title="Settings" />
      <SecondFactor />
      <Passkeys />
      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <QueryView query={sessions} what="sessions">
          {({ items }) => (
            <DataTable<Session>
              caption="Sessions"
              rows={items}
              columns={[
                {
                  header: 'Device',
                  cell: (s) => (s.current ? `${s.userAgent ?? '–'} (this one)` : (s.userAgent ?? '–')),
                },
                { header: 'IP', cell: (s) => s.ip ?? '–' },
                { header: 'Signed in', cell: (s) => <When iso={s.created} /> },
                { header: 'Last used', cell: (s) => <When iso={s.lastUsed} /> },
                { header: 'Ends', cell: (s) => <When iso={s.expires} /> },
              ]}
            />
          )}
        </QueryView>
      </section>
      <TestMail />
      <EffectiveSettings />
    </>
  )
}
