import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import type { RowSelectionState } from '@tanstack/react-table'
import { type FormEvent, useEffect, useId, useState } from 'react'
import { describeError } from '../api/problem'
import { queryKeys, recordsPageQuery } from '../api/queries'
import { deleteRecords, subscribeToRecords, type RecordsView as View } from '../api/records'
import type { CollectionModel, RecordModel } from '../api/types'
import { FilterInput } from './filter-input'
import { RecordForm } from './record-form'
import { ExportPanel, ImportPanel } from './records-io'
import { RecordsTable, tableFields, useColumnVisibility } from './records-table'
import { Empty, LoadError, Loading } from './status'

/**
 * Changes made elsewhere arrive as realtime events; the pages on screen are fetched again, at
 * most a few times a second, and once more when the stream is back after a break.
 */
function useLiveRecords(collection: string) {
  const queryClient = useQueryClient()
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const refetch = () => {
      timer ??= setTimeout(() => {
        timer = undefined
        void queryClient.invalidateQueries({ queryKey: queryKeys.records(collection) })
      }, 250)
    }
    const close = subscribeToRecords(collection, refetch, refetch)
    return () => {
      clearTimeout(timer)
      close()
    }
  }, [collection, queryClient])
}

/**
 * A collection's records: filter and search, the count, the table (sortable, columns to pick,
 * live), the record form, bulk delete, import and export.
 */
export function RecordsView({
  collection,
  collections,
}: {
  collection: CollectionModel
  collections: CollectionModel[]
}) {
  const hasCreated = collection.fields.some((field) => field.name === 'created')
  const [view, setView] = useState<View>({ filter: '', search: '', sort: hasCreated ? '-created' : '' })
  const [draft, setDraft] = useState({ filter: '', search: '' })
  const [visibility, setVisibility] = useColumnVisibility(collection)
  const [selection, setSelection] = useState<RowSelectionState>({})
  const [open, setOpen] = useState<RecordModel | 'new' | null>(null)
  const queryClient = useQueryClient()
  const searchId = useId()
  useLiveRecords(collection.name)
  const firstPage = useQuery({
    ...recordsPageQuery(collection.name, view, 1),
    placeholderData: keepPreviousData,
  })
  const selected = Object.keys(selection)
  const bulkDelete = useMutation({
    mutationFn: () => deleteRecords(collection.name, selected),
    onSuccess: async () => {
      setSelection({})
      await queryClient.invalidateQueries({ queryKey: queryKeys.records(collection.name) })
    },
  })
  const apply = (event: FormEvent) => {
    event.preventDefault()
    setView({ ...view, ...draft })
  }
  const filterError = firstPage.error && view.filter ? describeError(firstPage.error) : null
  const total = firstPage.data?.totalItems ?? 0
  return (
    <>
      <div className="header-actions">
        <button
          type="button"
          className="primary"
          onClick={() => setOpen('new')}
          disabled={collection.type === 'view'}
        >
          New record
        </button>
        <button
          type="button"
          className="danger"
          disabled={selected.length === 0 || bulkDelete.isPending}
          onClick={() => bulkDelete.mutate()}
        >
          {`Delete selected (${selected.length})`}
        </button>
        <details className="column-picker">
          <summary>Columns</summary>
          <fieldset>
            <legend>Columns shown</legend>
            {tableFields(collection).map((field) => (
              <label key={field.name} className="check">
                <input
                  type="checkbox"
                  checked={visibility[field.name] !== false}
                  onChange={(event) => setVisibility({ ...visibility, [field.name]: event.target.checked })}
                />
                {field.name}
              </label>
            ))}
          </fieldset>
        </details>
      </div>
      {bulkDelete.error && (
        <p className="form-error" role="alert">
          {describeError(bulkDelete.error)}
        </p>
      )}
      <form className="records-filter" onSubmit={apply} aria-label={`Filter ${collection.name}`}>
        <FilterInput
          label="Filter"
          value={draft.filter}
          onChange={(filter) => setDraft({ ...draft, filter })}
          schema={{ collection, collections }}
          error={filterError ?? undefined}
          placeholder={'title ~ "plinth" && created > "2024-01-01"'}
          onSubmit={() => setView({ ...view, ...draft })}
        />
        {collection.search && (
          <div className="field">
            <label htmlFor={`${searchId}-search`}>Search</label>
            <input
              id={`${searchId}-search`}
              type="search"
              value={draft.search}
              onChange={(event) => setDraft({ ...draft, search: event.target.value })}
            />
          </div>
        )}
        <button type="submit">Apply</button>
      </form>
      <p className="records-count" role="status">
        {firstPage.data ? `${total.toLocaleString('en')} ${total === 1 ? 'record' : 'records'}` : ''}
      </p>
      {firstPage.isPending ? (
        <Loading what={`records of ${collection.name}`} />
      ) : firstPage.error && !filterError ? (
        <LoadError error={firstPage.error} onRetry={() => void firstPage.refetch()} />
      ) : total === 0 && !filterError ? (
        <Empty>
          {view.filter || view.search ? 'No record matches.' : `${collection.name} has no records yet.`}
        </Empty>
      ) : (
        total > 0 && (
          <RecordsTable
            collection={collection}
            view={view}
            onSort={(sort) => setView({ ...view, sort })}
            total={total}
            visibility={visibility}
            selection={selection}
            onSelection={setSelection}
            onOpen={setOpen}
          />
        )
      )}
      <div className="records-io-row">
        <ImportPanel collection={collection} />
        <ExportPanel collection={collection} view={view} />
      </div>
      {open && (
        <RecordForm
          collection={collection}
          collections={collections}
          record={open === 'new' ? null : open}
          onClose={() => setOpen(null)}
        />
      )}
    </>
  )
}
