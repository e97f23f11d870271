import { useQuery } from '@tanstack/react-query'
import { getRouteApi } from '@tanstack/react-router'
import { ApiError } from '../api/problem'
import { collectionsQuery } from '../api/queries'
import { PageHeader, QueryView } from '../components/query-view'
import { RecordsView } from '../components/records-view'
import { LoadError } from '../components/status'

const route = getRouteApi('/_app/collections/$name/records')

export function RecordsPage() {
  const { name } = route.useParams()
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
          return <RecordsView key={collection.name} collection={collection} collections={items} />
        }}
      </QueryView>
    </>
  )
}
