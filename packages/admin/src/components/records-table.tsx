import { useQuery } from '@tanstack/react-query'
import { recordsQuery } from '../api/queries'
import type { CollectionModel, RecordModel } from '../api/types'
import { type Column, DataTable, Pager, When } from './data-table'
import { QueryView } from './query-view'
import { Empty } from './status'

const PER_PAGE = 30
/** Columns beyond these make a table no one can read on a tablet; the record's own page shows all. */
const MAX_COLUMNS = 6

/** A value of a record as short text for a table cell. */
function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '–'
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

function columnsOf(collection: CollectionModel): Column<RecordModel>[] {
  const fields = collection.fields.filter(
    (field) => !['id', 'created', 'updated', 'password', 'tokenKey'].includes(field.name),
  )
  return [
    { header: 'id', cell: (record) => <code>{record.id}</code> },
    ...fields.slice(0, MAX_COLUMNS).map((field) => ({
      header: field.name,
      cell: (record: RecordModel) => cellText(record[field.name]),
    })),
    { header: 'created', cell: (record) => <When iso={record.created} /> },
  ]
}

/** One page of a collection's records, newest first, with paging. */
export function RecordsTable({
  collection,
  page,
  onPage,
}: {
  collection: CollectionModel
  page: number
  onPage: (page: number) => void
}) {
  const records = useQuery(recordsQuery(collection.name, { page, perPage: PER_PAGE, sort: '-created' }))
  const caption = `Records of ${collection.name}`
  return (
    <QueryView query={records} what={`records of ${collection.name}`}>
      {(list) =>
        list.totalItems === 0 ? (
          <Empty>{`${collection.name} has no records yet.`}</Empty>
        ) : (
          <>
            <DataTable caption={caption} rows={list.items} columns={columnsOf(collection)} />
            <Pager
              label={caption}
              page={list.page}
              totalPages={list.totalPages}
              totalItems={list.totalItems}
              onPage={onPage}
            />
          </>
        )
      }
    </QueryView>
  )
}
