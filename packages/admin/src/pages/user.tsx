import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { api } from '../api/client'
import { operationKeys, userQuery, userSessionsQuery } from '../api/queries'
import type { RecordModel, RecordSession } from '../api/types'
import { CopyButton } from '../components/copy-button'
import { DataTable, When } from '../components/data-table'
import { Field, FormError } from '../components/form'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/users/$collection/$id')

/** One user of an auth collection: verify them, send a reset mail, act as them, end their sessions. */
export function UserPage() {
  const { collection, id } = route.useParams()
  const user = useQuery(userQuery(collection, id))
  return (
    <QueryView query={user} what="the user">
      {(record) => (
        <>
          <PageHeader title={String(record.email ?? record.id)} />
          <p>
            <Link to="/users" search={{ collection }}>
              All users of {collection}
            </Link>
          </p>
          <dl className="facts">
            <dt>Id</dt>
            <dd>
              <code>{record.id}</code>
            </dd>
            <dt>Verified</dt>
            <dd>{record.verified ? 'yes' : 'no'}</dd>
            <dt>Created</dt>
            <dd>
              <When iso={record.created} />
            </dd>
          </dl>
          <Account collection={collection} user={record} />
          <Impersonation collection={collection} user={record} />
          <Sessions collection={collection} id={record.id} />
        </>
      )}
    </QueryView>
  )
}

const collectionPath = (collection: string) => `/api/collections/${encodeURIComponent(collection)}`

function Account({ collection, user }: { collection: string; user: RecordModel }) {
  const queryClient = useQueryClient()
  const verify = useMutation({
    mutationFn: () =>
      api(`${collectionPath(collection)}/records/${encodeURIComponent(user.id)}`, {
        method: 'PATCH',
        body: { verified: true },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: operationKeys.users(collection) }),
  })
  const reset = useMutation({
    mutationFn: () =>
      api(`${collectionPath(collection)}/request-password-reset`, {
        method: 'POST',
        body: { email: user.email },
      }),
  })
  return (
    <section aria-labelledby="account-heading">
      <h2 id="account-heading">Account</h2>
      <div className="row-actions">
        {!user.verified && (
          <button type="button" disabled={verify.isPending} onClick={() => verify.mutate()}>
            Mark as verified
          </button>
        )}
        {typeof user.email === 'string' && user.email !== '' && (
          <button type="button" disabled={reset.isPending} onClick={() => reset.mutate()}>
            Send a password-reset mail
          </button>
        )}
      </div>
      {reset.isSuccess && <p role="status">A password-reset mail is on its way to {String(user.email)}.</p>}
      <FormError error={verify.error ?? reset.error} />
    </section>
  )
}

function Impersonation({ collection, user }: { collection: string; user: RecordModel }) {
  const queryClient = useQueryClient()
  const impersonate = useMutation({
    mutationFn: () =>
      api<{ token: string }>(`${collectionPath(collection)}/impersonate/${encodeURIComponent(user.id)}`, {
        method: 'POST',
        body: {},
      }),
    // The token comes with a session of its own, which the sessions list shows.
    onSuccess: () =>
      queryClient.invalidateQueries({ queryKey: operationKeys.userSessions(collection, user.id) }),
  })
  return (
    <section aria-labelledby="impersonate-heading">
      <h2 id="impersonate-heading">Act as this user</h2>
      <p>
        A short access token of this user, to call the API as they would (for instance with curl's{' '}
        <code>Authorization: Bearer</code>). It cannot be refreshed, and the audit log records that you made
        it. It is shown here only; the app keeps no copy.
      </p>
      <button type="button" disabled={impersonate.isPending} onClick={() => impersonate.mutate()}>
        Make an impersonation token
      </button>
      <FormError error={impersonate.error} />
      {impersonate.data && (
        <div className="panel">
          <Field
            label="Impersonation token"
            name="token"
            className="secret"
            readOnly
            value={impersonate.data.token}
          />
          <CopyButton text={impersonate.data.token} label="Copy the token" />
        </div>
      )}
    </section>
  )
}

function Sessions({ collection, id }: { collection: string; id: string }) {
  const queryClient = useQueryClient()
  const sessions = useQuery(userSessionsQuery(collection, id))
  const base = `${collectionPath(collection)}/records/${encodeURIComponent(id)}/sessions`
  const done = () => queryClient.invalidateQueries({ queryKey: operationKeys.userSessions(collection, id) })
  const revoke = useMutation({
    mutationFn: (sessionId: string) => api(`${base}/${encodeURIComponent(sessionId)}`, { method: 'DELETE' }),
    onSuccess: done,
  })
  const revokeAll = useMutation({ mutationFn: () => api(base, { method: 'DELETE' }), onSuccess: done })
  return (
    <section aria-labelledby="user-sessions-heading">
      <h2 id="user-sessions-heading">Sessions</h2>
      <FormError error={revoke.error ?? revokeAll.error} />
      <QueryView query={sessions} what="sessions">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No open sessions.</Empty>
          ) : (
            <>
              <DataTable<RecordSession>
                caption="Open sessions"
                rows={items}
                columns={[
                  { header: 'Device', cell: (s) => s.userAgent ?? '–' },
                  { header: 'IP', cell: (s) => s.ip ?? '–' },
                  { header: 'Signed in', cell: (s) => <When iso={s.created} /> },
                  { header: 'Last used', cell: (s) => <When iso={s.lastUsed} /> },
                  { header: 'Ends', cell: (s) => <When iso={s.expires} /> },
                  { header: 'Kind', cell: (s) => (s.impersonated ? 'impersonation' : 'sign-in') },
                  {
                    header: 'Actions',
                    cell: (s) => (
                      <button
                        type="button"
                        aria-label={`End session ${s.id}`}
                        disabled={revoke.isPending}
                        onClick={() => revoke.mutate(s.id)}
                      >
                        End
                      </button>
                    ),
                  },
                ]}
              />
              <button
                type="button"
                disabled={revokeAll.isPending}
                onClick={() => {
                  if (window.confirm('End every session of this user? They will have to sign in again.'))
                    revokeAll.mutate()
                }}
              >
                End all sessions
              </button>
            </>
          )
        }
      </QueryView>
    </section>
  )
}
