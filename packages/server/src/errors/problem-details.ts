import { errorCatalogue, type FieldErrors, type PlinthError, problemType } from './errors.js'

/**
 * An error as a client reads it: RFC 9457's members, and `message` and `data`, which
 * PocketBase clients read (its error body is `{status, message, data}`, and its SDK
 * takes the text from `message` and the per-field errors from `data`).
 */
export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail: string
  errors?: FieldErrors
  message: string
  data: FieldErrors
}

function titleOf(code: string, status: number): string {
  return (
    (errorCatalogue as Record<string, { title: string }>)[code]?.title ??
    (status >= 500 ? 'Internal server error' : 'Bad request')
  )
}

/** The body of an error without transport details (the request id, headers). */
export function problemDetails(error: PlinthError): ProblemDetails {
  const errors = error.fields && Object.keys(error.fields).length > 0 ? error.fields : undefined
  return {
    type: problemType(error.code),
    title: titleOf(error.code, error.status),
    status: error.status,
    detail: error.message,
    ...(errors ? { errors } : {}),
    message: error.message,
    data: errors ?? {},
  }
}
