import { describeError } from '../api/problem'

/** Shown while a page's data loads, so a page never flashes "nothing here" before its data arrives. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  )
}

/** A failed load, in the server's words. */
export function LoadError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="form-error" role="alert">
      <p>{describeError(error)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function Empty({ children }: { children: string }) {
  return <p className="empty">{children}</p>
}
