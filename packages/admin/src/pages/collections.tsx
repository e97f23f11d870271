import { useQuery } from '@tanstack/react-query'
import { Link } from '@tanstack/react-router'
import { useState } from 'react'
import { api } from '../api/client'
import { collectionsQuery } from '../api/queries'
import type { CollectionModel, ListPage } from '../api/types'
import { DataTable, When } from '../components/data-table'
import { FormError } from '../components/form'
import { PageHeader, QueryView } from '../components/query-view'
import { SchemaImport } from '../components/schema-import'
import { Empty } from '../components/status'

const ruleLabel = (rule: string | null) => (rule === null ? 'superusers' : rule === '' ? 'everyone' : rule)

export function CollectionsPage() {
  const collections = useQuery(collectionsQuery())
  return (
    <>
      <PageHeader title="Collections">
        <div className="header-actions">
          <Link to="/collections/new" className="button primary">
            New collection
          </Link>
          <ExportButton />
        </div>
      </PageHeader>
      <QueryView query={collections} what="collections">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No collections yet. Create one with New collection, or with POST /api/collections.</Empty>
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
                {
                  header: 'Definition',
                  cell: (c) => (
                    <Link
                      to="/collections/$name/edit"
                      params={{ name: c.name }}
                      aria-label={`Edit ${c.name}`}
                    >
                      Edit
                    </Link>
                  ),
                },
                { header: 'Fields', cell: (c) => c.fields.filter((f) => !f.system).length },
                { header: 'List rule', cell: (c) => <code>{ruleLabel(c.listRule)}</code> },
                { header: 'View rule', cell: (c) => <code>{ruleLabel(c.viewRule)}</code> },
                { header: 'Updated', cell: (c) => <When iso={c.updated} /> },
              ]}
            />
          )
        }
      </QueryView>
      <SchemaImport />
    </>
  )
}

/**
 * Downloads the definitions as GET /api/collections answers them, read afresh at the click so the
 * file never holds a stale list.
 */
function ExportButton() {
  const [error, setError] = useState<unknown>()
  const download = async () => {
    setError(undefined)
    let collections: CollectionModel[]
    try {
      collections = (await api<ListPage<CollectionModel>>('/api/collections')).items
    } catch (failure) {
      setError(failure)
      return
    }
    const file = new Blob([`${JSON.stringify({ collections }, null, 2)}\n`], { type: 'application/json' })
    const link = document.createElement('a')
    link.href = URL.createObjectURL(file)
    link.download = 'plinth-collections.json'
    link.click()
    URL.revokeObjectURL(link.href)
  }
  return (
    <>
      <button type="button" onClick={() => void download()}>
        Export schema
      </button>
      <FormError error={error} />
    </>
  )
}
