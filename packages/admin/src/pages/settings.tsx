import { useQuery } from '@tanstack/react-query'
import { mfaQuery, passkeysQuery, sessionsQuery } from '../api/queries'
import type { Passkey, Session } from '../api/types'
import { DataTable, When } from '../components/data-table'
import { EffectiveSettings, TestMail } from '../components/effective-settings'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

/** How the signed-in superuser signs in (sessions, second factor, passkeys), the configuration in effect, and a test mail. */
export function SettingsPage() {
  const sessions = useQuery(sessionsQuery())
  const mfa = useQuery(mfaQuery())
  const passkeys = useQuery(passkeysQuery())
  return (
    <>
      <PageHeader title="Settings" />
      <section aria-labelledby="mfa-heading">
        <h2 id="mfa-heading">Second factor</h2>
        <QueryView query={mfa} what="the second factor">
          {(status) => (
            <dl className="facts">
              <dt>Authenticator app (TOTP)</dt>
              <dd>{status.totp ? `on, ${status.recoveryCodesLeft} recovery codes left` : 'off'}</dd>
              <dt>Passkeys</dt>
              <dd>{status.passkeys}</dd>
            </dl>
          )}
        </QueryView>
      </section>
      <section aria-labelledby="passkeys-heading">
        <h2 id="passkeys-heading">Passkeys</h2>
        <QueryView query={passkeys} what="passkeys">
          {({ items }) =>
            items.length === 0 ? (
              <Empty>No passkeys registered.</Empty>
            ) : (
              <DataTable<Passkey>
                caption="Passkeys"
                rows={items}
                columns={[
                  { header: 'Name', cell: (p) => p.name },
                  { header: 'Added', cell: (p) => <When iso={p.created} /> },
                  { header: 'Last used', cell: (p) => <When iso={p.lastUsed} /> },
                ]}
              />
            )
          }
        </QueryView>
      </section>
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
