import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { ApiError } from '../api/problem'
import { collectionsQuery } from '../api/queries'
import { PageHeader, QueryView } from '../components/query-view'
import { RecordsTable } from '../components/records-table'
import { LoadError } from '../components/status'

const route = getRouteApi('/_app/collections/$name/records')

export function RecordsPage() {
  const { name } = route.useParams()
  const { page = 1 } = route.useSearch()
  const navigate = route.useNavigate()
  const collections = useQuery(collectionsQuery())
  return (
    <>
      <PageHeader title={`Records of ${name}`} />
      <QueryView query={collections} what="the collection">
        {({ items }) => {
          const collection = items.find((c) => c.name === name)
          if (!collection)
            return (
              <LoadError error={new ApiError(404, 'not_found', `There is no collection named ${name}.`)} />
            )
          return (
            <RecordsTable
              key={collection.name}
              collection={collection}
              page={page}
              onPage={(next) => void navigate({ search: { page: next } })}
            />
          )
        }}
      </QueryView>
    </>
  )
}
