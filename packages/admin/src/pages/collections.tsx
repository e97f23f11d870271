import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { collectionsQuery } from '../api/queries'
import type { CollectionModel } from '../api/types'
import { DataTable, When } from '../components/data-table'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const ruleLabel = (rule: string | null) => (rule === null ? 'superusers' : rule === '' ? 'everyone' : rule)

export function CollectionsPage() {
  const collections = useQuery(collectionsQuery())
  return (
    <>
      <PageHeader title="Collections" />
      <QueryView query={collections} what="collections">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No collections yet. Create one with POST /api/collections.</Empty>
          ) : (
            <DataTable<CollectionModel>
              caption="Collections"
              rows={items}
              columns={[
                {
                  header: 'Name',
                  cell: (c) => (
                    <Link to="/collections/$name/records" params={{ name: c.name }}>
                      {c.name}
                    </Link>
                  ),
                },
                { header: 'Type', cell: (c) => c.type },
                { header: 'Fields', cell: (c) => c.fields.filter((f) => !f.system).length },
                { header: 'List rule', cell: (c) => <code>{ruleLabel(c.listRule)}</code> },
                { header: 'View rule', cell: (c) => <code>{ruleLabel(c.viewRule)}</code> },
                { header: 'Updated', cell: (c) => <When iso={c.updated} /> },
              ]}
            />
          )
        }
      </QueryView>
    </>
  )
}
