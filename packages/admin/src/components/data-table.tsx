import type { ReactNode } from 'react'

export interface Column<T> {
  header: string
  cell: (row: T) => ReactNode
}

/**
 * A plain table of rows. The caption names it (and its scroll region, which is focusable so
 * a keyboard can scroll a wide table on a narrow screen).
 */
export function DataTable<T extends { id: string }>({
  caption,
  columns,
  rows,
}: {
  caption: string
  columns: Column<T>[]
  rows: T[]
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1).
    <section className="table-scroll" aria-label={caption} tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col">
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              {columns.map((column) => (
                <td key={column.header}>{column.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

/** Previous and next buttons under a paged list, with where the list stands. */
export function Pager({
  label,
  page,
  totalPages,
  totalItems,
  onPage,
}: {
  label: string
  page: number
  totalPages: number
  totalItems: number
  onPage: (page: number) => void
}) {
  return (
    <nav className="pager" aria-label={`Pages of ${label}`}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous page
      </button>
      <span>
        Page {page} of {Math.max(totalPages, 1)} ({totalItems} in all)
      </span>
      <button type="button" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>
        Next page
      </button>
    </nav>
  )
}

/** A date of the API (ISO-8601 UTC) in the reader's own format and time zone. */
export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <>–</>
  const date = new Date(iso)
  return <time dateTime={iso}>{Number.isNaN(date.getTime()) ? iso : date.toLocaleString()}</time>
}
