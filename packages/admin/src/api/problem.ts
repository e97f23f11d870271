/** One entry of a problem's `errors`: what is wrong with one field (docs/errors.md). */
export interface FieldError {
  code: string
  message: string
}

/**
 * An answer that was not a success, read from its problem+json body: `detail` says in plain
 * words what went wrong, `fieldErrors` which field it concerns. Answers that are not
 * problem+json (a proxy's HTML page) still become one of these, with a generic detail.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly fieldErrors: Readonly<Record<string, FieldError>> = {},
    readonly requestId: string | null = null,
  ) {
    super(detail)
    this.name = 'ApiError'
  }

  /** The message for one field, if the server named it. */
  fieldMessage(field: string): string | undefined {
    return this.fieldErrors[field]?.message
  }
}

const TYPE_PREFIX = 'urn:plinth:error:'

export async function problemOf(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id')
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('json')) {
    try {
      const body = (await response.json()) as {
        type?: unknown
        detail?: unknown
        errors?: unknown
      }
      const code =
        typeof body.type === 'string' && body.type.startsWith(TYPE_PREFIX)
          ? body.type.slice(TYPE_PREFIX.length)
          : 'unknown'
      const detail = typeof body.detail === 'string' ? body.detail : response.statusText
      const errors = isFieldErrors(body.errors) ? body.errors : {}
      return new ApiError(response.status, code, detail, errors, requestId)
    } catch {
      // A body that is not JSON after all falls through to the generic answer.
    }
  }
  return new ApiError(
    response.status,
    'unknown',
    `The server answered ${response.status} ${response.statusText}.`.replace(' .', '.'),
    {},
    requestId,
  )
}

function isFieldErrors(value: unknown): value is Record<string, FieldError> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A sentence for any thrown value: the server's detail, or why the request did not get through. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.detail
  if (error instanceof TypeError) return 'The server could not be reached. Check that it is running.'
  return error instanceof Error ? error.message : String(error)
}
