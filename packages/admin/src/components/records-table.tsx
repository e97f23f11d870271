import { useQueries, useQueryClient } from '@tanstack/react-query'
import {
  type ColumnDef,
  getCoreRowModel,
  type RowSelectionState,
  useReactTable,
  type VisibilityState,
} from '@tanstack/react-table'
import { useVirtualizer } from '@tanstack/react-virtual'
import { type KeyboardEvent, memo, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { describeError } from '../api/problem'
import { queryKeys, RECORDS_PER_PAGE, recordsPageQuery } from '../api/queries'
import { type RecordsView, saveRecord } from '../api/records'
import type { CollectionModel, FieldDefinition, RecordModel } from '../api/types'

const ROW_HEIGHT = 36
/** Types whose value is one line of text or a checkbox, which a cell can edit in place. */
const INLINE_TYPES = new Set(['text', 'number', 'email', 'url', 'bool'])

/** A value of a record as short text for a table cell. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '–'
  if (Array.isArray(value) && value.length === 0) return '–'
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

/** The fields a table can show: all but secrets. */
export function tableFields(collection: CollectionModel): FieldDefinition[] {
  return collection.fields.filter((field) => !['password', 'tokenKey'].includes(field.name))
}

const columnsKey = (collection: string) => `plinth-admin:columns:${collection}`

/** Which columns are shown is remembered per collection; by default the first eight. */
export function useColumnVisibility(collection: CollectionModel) {
  const [visibility, setVisibility] = useState<VisibilityState>(() => {
    const stored = localStorage.getItem(columnsKey(collection.name))
    if (stored) return JSON.parse(stored) as VisibilityState
    return Object.fromEntries(tableFields(collection).map((field, at) => [field.name, at < 8]))
  })
  const change = (next: VisibilityState) => {
    setVisibility(next)
    localStorage.setItem(columnsKey(collection.name), JSON.stringify(next))
  }
  return [visibility, change] as const
}

export interface RecordsTableProps {
  collection: CollectionModel
  view: RecordsView
  onSort: (sort: string) => void
  total: number
  visibility: VisibilityState
  selection: RowSelectionState
  onSelection: (selection: RowSelectionState) => void
  onOpen: (record: RecordModel) => void
}

/** The next `sort` after a click on a column's header: ascending, descending, then none. */
function nextSort(sort: string, field: string): string {
  if (sort === field) return `-${field}`
  if (sort === `-${field}`) return ''
  return field
}

/**
 * A collection's records as a grid of which only the visible rows exist: the rows are
 * fetched a page at a time as they scroll into view (only the first page is counted), so a
 * table of 100,000 records costs what a screenful does. Arrow keys, Home/End and Page Up/Down
 * move between cells; Enter edits a simple cell in place or opens the record; Space selects
 * the row.
 */
export function RecordsTable({
  collection,
  view,
  onSort,
  total,
  visibility,
  selection,
  onSelection,
  onOpen,
}: RecordsTableProps) {
  const scroller = useRef<HTMLDivElement>(null)
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  })
  const items = virtualizer.getVirtualItems()
  const first = items[0]?.index ?? 0
  const last = items.at(-1)?.index ?? 0
  const pages: number[] = []
  if (total > 0)
    for (
      let page = Math.floor(first / RECORDS_PER_PAGE) + 1;
      page <= Math.floor(last / RECORDS_PER_PAGE) + 1;
      page++
    )
      pages.push(page)
  const results = useQueries({
    queries: pages.map((page) => recordsPageQuery(collection.name, view, page)),
  })
  const rowAt = (index: number): RecordModel | undefined => {
    const at = pages.indexOf(Math.floor(index / RECORDS_PER_PAGE) + 1)
    return results[at]?.data?.items[index % RECORDS_PER_PAGE]
  }

  const fields = useMemo(() => tableFields(collection), [collection])
  const columns = useMemo<ColumnDef<RecordModel>[]>(
    () =>
      fields.map((field) => ({
        id: field.name,
        header: field.name,
        accessorFn: (record) => record[field.name],
      })),
    [fields],
  )
  const table = useReactTable({
    data: [],
    columns,
    state: { columnVisibility: visibility, rowSelection: selection },
    getRowId: (record) => record.id,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
  })
  const leafColumns = table.getVisibleLeafColumns()
  const shown = useMemo(
    () => leafColumns.map((column) => fields.find((field) => field.name === column.id)!),
    [leafColumns, fields],
  )

  const [active, setActive] = useState({ row: 0, col: 0 })
  const [editing, setEditing] = useState<{ id: string; field: string } | null>(null)
  const grid = useRef<HTMLTableElement>(null)
  useEffect(() => {
    if (!grid.current?.contains(document.activeElement) || editing) return
    grid.current.querySelector<HTMLElement>(`[data-cell="${active.row}:${active.col}"]`)?.focus()
  }, [active, editing])

  const move = (row: number, col: number) => {
    const next = { row: Math.max(0, Math.min(total - 1, row)), col: Math.max(0, Math.min(shown.length, col)) }
    virtualizer.scrollToIndex(next.row)
    setActive(next)
  }
  // Stable callbacks let rows that did not change skip rendering; they read the latest selection.
  const latest = useRef({ selection, onSelection })
  latest.current = { selection, onSelection }
  const toggle = useCallback((id: string) => {
    const next = { ...latest.current.selection }
    if (next[id]) delete next[id]
    else next[id] = true
    latest.current.onSelection(next)
  }, [])
  const focusCell = useCallback((row: number, col: number) => setActive({ row, col }), [])
  const editDone = useCallback(() => setEditing(null), [])
  const onKeyDown = (event: KeyboardEvent<HTMLTableSectionElement>) => {
    if (editing) return
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 0) / ROW_HEIGHT) - 1)
    const moves: Record<string, () => void> = {
      ArrowDown: () => move(active.row + 1, active.col),
      ArrowUp: () => move(active.row - 1, active.col),
      ArrowLeft: () => move(active.row, active.col - 1),
      ArrowRight: () => move(active.row, active.col + 1),
      PageDown: () => move(active.row + page, active.col),
      PageUp: () => move(active.row - page, active.col),
      Home: () => move(event.ctrlKey ? 0 : active.row, 0),
      End: () => move(event.ctrlKey ? total - 1 : active.row, shown.length),
    }
    const record = rowAt(active.row)
    const moveBy = moves[event.key]
    if (moveBy) {
      event.preventDefault()
      moveBy()
    } else if (event.key === ' ' && record && !(event.target instanceof HTMLInputElement)) {
      event.preventDefault()
      toggle(record.id)
    } else if (
      event.key === 'Enter' &&
      record &&
      event.target === event.currentTarget.ownerDocument.activeElement
    ) {
      const field = shown[active.col - 1]
      if (field && INLINE_TYPES.has(field.type) && !field.system)
        setEditing({ id: record.id, field: field.name })
      else onOpen(record)
    }
  }

  const sort = view.sort
  const padTop = items[0]?.start ?? 0
  const padBottom = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0)
  return (
    <div className="records-scroll" ref={scroller}>
      <table
        ref={grid}
        // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: a table whose cells are navigated by arrow keys is a grid (WAI-ARIA grid pattern).
        role="grid"
        className="records-grid"
        aria-label={`Records of ${collection.name}`}
        aria-rowcount={total + 1}
        aria-multiselectable
      >
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" className="select-cell">
              <span className="visually-hidden">Selected</span>
            </th>
            {shown.map((field) => {
              const direction =
                sort === field.name ? 'ascending' : sort === `-${field.name}` ? 'descending' : 'none'
              return (
                <th key={field.name} scope="col" aria-sort={direction}>
                  <button
                    type="button"
                    className="sort-button"
                    onClick={() => onSort(nextSort(sort, field.name))}
                  >
                    {field.name}
                    <span aria-hidden="true">
                      {direction === 'ascending' ? ' ▲' : direction === 'descending' ? ' ▼' : ''}
                    </span>
                  </button>
                </th>
              )
            })}
          </tr>
        </thead>
        <tbody onKeyDown={onKeyDown}>
          {padTop > 0 && <tr className="spacer" style={{ height: padTop }} />}
          {items.map((item) => {
            const record = rowAt(item.index)
            return (
              <Row
                key={item.key}
                index={item.index}
                record={record}
                shown={shown}
                collection={collection.name}
                selected={record ? Boolean(selection[record.id]) : false}
                activeCol={active.row === item.index ? active.col : -1}
                editingField={record && editing?.id === record.id ? editing.field : null}
                onFocusCell={focusCell}
                onToggle={toggle}
                onOpen={onOpen}
                onEditDone={editDone}
              />
            )
          })}
          {padBottom > 0 && <tr className="spacer" style={{ height: padBottom }} />}
        </tbody>
      </table>
    </div>
  )
}

interface RowProps {
  index: number
  record: RecordModel | undefined
  shown: FieldDefinition[]
  collection: string
  selected: boolean
  /** The column of the cell that takes Tab into the grid, when it is in this row; else -1. */
  activeCol: number
  editingField: string | null
  onFocusCell: (row: number, col: number) => void
  onToggle: (id: string) => void
  onOpen: (record: RecordModel) => void
  onEditDone: () => void
}

/**
 * One row, drawn again only when its own props change: while the table scrolls, only rows
 * coming into view render, which keeps each frame short.
 */
const Row = memo(function Row({
  index,
  record,
  shown,
  collection,
  selected,
  activeCol,
  editingField,
  onFocusCell,
  onToggle,
  onOpen,
  onEditDone,
}: RowProps) {
  const cellProps = (col: number) => ({
    'data-cell': `${index}:${col}`,
    tabIndex: activeCol === col ? 0 : -1,
    onFocus: () => onFocusCell(index, col),
  })
  if (!record)
    return (
      <tr aria-rowindex={index + 2} style={{ height: ROW_HEIGHT }}>
        <td {...cellProps(0)} colSpan={shown.length + 1} className="loading-row">
          Loading…
        </td>
      </tr>
    )
  return (
    <tr aria-rowindex={index + 2} aria-selected={selected} style={{ height: ROW_HEIGHT }}>
      <td {...cellProps(0)} className="select-cell">
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={`Select ${record.id}`}
          checked={selected}
          onChange={() => onToggle(record.id)}
        />
      </td>
      {shown.map((field, at) => (
        <td key={field.name} {...cellProps(at + 1)} onDoubleClick={() => onOpen(record)}>
          {editingField === field.name ? (
            <InlineEdit collection={collection} record={record} field={field} onDone={onEditDone} />
          ) : field.name === 'id' ? (
            <button type="button" className="link-button" tabIndex={-1} onClick={() => onOpen(record)}>
              {record.id}
            </button>
          ) : (
            cellText(record[field.name])
          )}
        </td>
      ))}
    </tr>
  )
})

/** A cell's value edited in place: Enter saves it with a PATCH, Escape leaves it as it was. */
function InlineEdit({
  collection,
  record,
  field,
  onDone,
}: {
  collection: string
  record: RecordModel
  field: FieldDefinition
  onDone: () => void
}) {
  const queryClient = useQueryClient()
  const value = record[field.name]
  const [text, setText] = useState(
    field.type === 'bool' ? '' : value === null || value === undefined ? '' : String(value),
  )
  const [checked, setChecked] = useState(Boolean(value))
  const [error, setError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)
  const save = async () => {
    setSaving(true)
    const next = field.type === 'bool' ? checked : field.type === 'number' ? Number(text) : text
    try {
      await saveRecord(collection, record.id, { [field.name]: next })
      await queryClient.invalidateQueries({ queryKey: queryKeys.records(collection) })
      onDone()
    } catch (failure) {
      setError(describeError(failure))
      setSaving(false)
    }
  }
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    event.stopPropagation()
    if (event.key === 'Enter') void save()
    if (event.key === 'Escape') onDone()
  }
  const label = `${field.name} of ${record.id}`
  return (
    <span className="inline-edit">
      {field.type === 'bool' ? (
        <input
          type="checkbox"
          aria-label={label}
          checked={checked}
          disabled={saving}
          onChange={(event) => setChecked(event.target.checked)}
          onKeyDown={onKeyDown}
          // biome-ignore lint/a11y/noAutofocus: the editor opens on a key press in this cell; focus belongs in it.
          autoFocus
        />
      ) : (
        <input
          type={
            field.type === 'number'
              ? 'number'
              : field.type === 'email'
                ? 'email'
                : field.type === 'url'
                  ? 'url'
                  : 'text'
          }
          aria-label={label}
          value={text}
          disabled={saving}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          // biome-ignore lint/a11y/noAutofocus: the editor opens on a key press in this cell; focus belongs in it.
          autoFocus
          aria-invalid={error ? true : undefined}
        />
      )}
      {error && (
        <span role="alert" className="field-error">
          {error}
        </span>
      )}
    </span>
  )
}
