import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { useState } from 'react'
import { collectionsQuery, usersQuery } from '../api/queries'
import type { CollectionModel, RecordModel } from '../api/types'
import { DataTable, Pager, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const route = getRouteApi('/_app/users')
const PER_PAGE = 30

type Verified = '' | 'true' | 'false'

/** A filter in the records API's language; quotes and backslashes in the text are escaped. */
export function usersFilter(text: string, verified: Verified): string | undefined {
  const parts: string[] = []
  const term = text.trim()
  if (term) {
    const quoted = JSON.stringify(term)
    parts.push(`(email ~ ${quoted} || id = ${quoted})`)
  }
  if (verified) parts.push(`verified = ${verified}`)
  return parts.length ? parts.join(' && ') : undefined
}

/** The records of the auth collections: the users who sign in, and the superusers. */
export function UsersPage() {
  const search = route.useSearch()
  const collections = useQuery(collectionsQuery())
  return (
    <>
      <PageHeader title="Users" />
      <QueryView query={collections} what="auth collections">
        {({ items }) => {
          const auth = items.filter((c) => c.type === 'auth')
          // Users first: superusers are the ones who need this page least.
          const chosen =
            auth.find((c) => c.name === search.collection) ??
            auth.find((c) => c.name !== '_superusers') ??
            auth[0]
          if (!chosen) return null
          return (
            <>
              <nav aria-label="Auth collections" className="tabs">
                <ul>
                  {auth.map((c) => (
                    <li key={c.id}>
                      <Link
                        to="/users"
                        search={{ collection: c.name }}
                        aria-current={c.name === chosen.name ? 'page' : undefined}
                      >
                        {c.name}
                      </Link>
                    </li>
                  ))}
                </ul>
              </nav>
              <UsersList key={chosen.name} collection={chosen} page={search.page ?? 1} />
            </>
          )
        }}
      </QueryView>
    </>
  )
}

function UsersList({ collection, page }: { collection: CollectionModel; page: number }) {
  const navigate = route.useNavigate()
  const [text, setText] = useState('')
  const [verified, setVerified] = useState<Verified>('')
  const [filter, setFilter] = useState<string | undefined>(undefined)
  const users = useQuery(usersQuery(collection.name, { page, perPage: PER_PAGE, sort: '-created', filter }))
  return (
    <>
      <form
        className="toolbar"
        aria-label="Find users"
        onSubmit={(event) => {
          event.preventDefault()
          setFilter(usersFilter(text, verified))
          void navigate({ search: { collection: collection.name } })
        }}
      >
        <div className="field">
          <label htmlFor="user-search">Email or id</label>
          <input id="user-search" type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="user-verified">Verified</label>
          <select
            id="user-verified"
            value={verified}
            onChange={(e) => setVerified(e.target.value as Verified)}
          >
            <option value="">any</option>
            <option value="true">verified</option>
            <option value="false">not verified</option>
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      <QueryView query={users} what="users">
        {(list) =>
          list.totalItems === 0 ? (
            <Empty>{filter ? 'No user matches.' : 'No users yet.'}</Empty>
          ) : (
            <>
              <DataTable<RecordModel>
                caption={`Users of ${collection.name}`}
                rows={list.items}
                columns={[
                  {
                    header: 'Email',
                    cell: (u) => (
                      <Link to="/users/$collection/$id" params={{ collection: collection.name, id: u.id }}>
                        {String(u.email ?? u.id)}
                      </Link>
                    ),
                  },
                  { header: 'Verified', cell: (u) => (u.verified ? 'yes' : 'no') },
                  { header: 'Created', cell: (u) => <When iso={u.created} /> },
                  { header: 'Updated', cell: (u) => <When iso={u.updated} /> },
                ]}
              />
              <Pager
                label={`users of ${collection.name}`}
                page={list.page}
                totalPages={list.totalPages}
                totalItems={list.totalItems}
                onPage={(next) => void navigate({ search: { collection: collection.name, page: next } })}
              />
            </>
          )
        }
      </QueryView>
    </>
  )
}
