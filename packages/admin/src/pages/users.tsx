import { useQuery } from '@tanstack/react-query'
import { getRouteApi, Link } from '@tanstack/react-router'
import { collectionsQuery } from '../api/queries'
import { PageHeader, QueryView } from '../components/query-view'
import { RecordsView } from '../components/records-view'

const route = getRouteApi('/_app/users')

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
              <RecordsView key={chosen.name} collection={chosen} collections={items} />
            </>
          )
        }}
      </QueryView>
    </>
  )
}
