import type { UseQueryResult } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { LoadError, Loading } from './status'

/** The three states of a query on a page: loading, failed (with a retry), or its data. */
export function QueryView<T>({
  query,
  what,
  children,
}: {
  query: UseQueryResult<T>
  what: string
  children: (data: T) => ReactNode
}) {
  if (query.isPending) return <Loading what={what} />
  if (query.isError) return <LoadError error={query.error} onRetry={() => void query.refetch()} />
  return <>{children(query.data)}</>
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children}
    </header>
  )
}
