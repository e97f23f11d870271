/**
 * The one error family of Plinth. Services throw these; the error handler in
 * `problem.ts` turns them into RFC 9457 problem+json. Every `code` has a row in
 * docs/errors.md (a test keeps the two in step).
 */

export type FieldErrors = Record<string, { code: string; message: string }>

/** Stable problem `type` URI for an error code. */
export function problemType(code: string): string {
  return `urn:plinth:error:${code}`
}

// Shared across copies of this module: a project's config may load its own copy of the
// package (or the built one while the server runs from source), and its HookError must
// still be recognised as one of ours.
const BRAND = Symbol.for('plinth.error')

export class PlinthError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: subclasses inherit this check, and `this` is the class asked about
    if (this !== PlinthError)
      return Function.prototype[Symbol.hasInstance].call(
        // biome-ignore lint/complexity/noThisInStatic: as above
        this,
        value,
      )
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  get [BRAND](): true {
    return true
  }

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldErrors,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message)
    this.name = 'PlinthError'
  }
}

export class ValidationError extends PlinthError {
  constructor(fields: FieldErrors, message = 'The request contains invalid data.') {
    super(400, 'validation_failed', message, fields)
  }
}

export class BadRequestError extends PlinthError {
  constructor(message: string, code = 'bad_request', fields?: FieldErrors) {
    super(400, code, message, fields)
  }
}

export class NotFoundError extends PlinthError {
  constructor(what = 'record') {
    super(404, 'not_found', `The ${what} was not found.`)
  }
}

export class UnauthorizedError extends PlinthError {
  constructor(message = 'Valid credentials are required.', code = 'unauthorized') {
    super(401, code, message)
  }
}

export class ForbiddenError extends PlinthError {
  constructor(message = 'You are not allowed to do this.') {
    super(403, 'forbidden', message)
  }
}

export class PreconditionFailedError extends PlinthError {
  constructor() {
    super(412, 'precondition_failed', 'The record has changed since it was read (If-Match did not match).')
  }
}

/** A write to the records of a view collection: they are rows of its query, so only GET applies. */
export class ReadOnlyCollectionError extends PlinthError {
  /** RFC 9110 §15.5.6: a 405 names the methods the resource does allow. */
  readonly allow = 'GET'

  constructor(collection: string) {
    super(405, 'method_not_allowed', `The records of the view ${collection} are read-only.`)
  }
}

export class ConflictError extends PlinthError {
  constructor(code: string, message: string) {
    super(409, code, message)
  }
}

/** A filter, sort or rule expression that cannot be parsed or compiled, with the 0-based position. */
export class FilterError extends PlinthError {
  constructor(
    readonly position: number,
    why: string,
    readonly param = 'filter',
  ) {
    super(
      400,
      param === 'sort' ? 'invalid_sort' : 'invalid_filter',
      `${why} (at position ${position})`,
      {
        [param]: {
          code: param === 'sort' ? 'invalid_sort' : 'invalid_filter',
          message: `${why} (at position ${position})`,
        },
      },
      { position },
    )
  }
}

/**
 * Refuses a write or a request from a project's own hook or route: the client gets
 * problem+json with this 4xx status and, per field, the messages given.
 *
 * @example
 * throw new HookError(400, 'Not enough stock.', { quantity: 'only 3 left' })
 */
export class HookError extends PlinthError {
  constructor(status: number, message: string, fields?: Record<string, string>) {
    if (!Number.isInteger(status) || status < 400 || status > 499)
      throw new RangeError(`HookError needs a 4xx status, got ${status}`)
    super(
      status,
      'refused',
      message,
      fields &&
        Object.fromEntries(
          Object.entries(fields).map(([name, text]) => [name, { code: 'refused', message: text }]),
        ),
    )
    this.name = 'HookError'
  }
}

/**
 * Every error code Plinth answers with, its status and its title. docs/errors.md
 * lists the same codes; errors.test.ts fails when they drift apart.
 */
export const errorCatalogue = {
  bad_request: { status: 400, title: 'Bad request' },
  validation_failed: { status: 400, title: 'Validation failed' },
  malformed_json: { status: 400, title: 'Malformed JSON' },
  invalid_filter: { status: 400, title: 'Invalid filter' },
  invalid_sort: { status: 400, title: 'Invalid sort' },
  invalid_query: { status: 400, title: 'Invalid query parameter' },
  invalid_subscription: { status: 400, title: 'Invalid realtime subscription' },
  invalid_header: { status: 400, title: 'Invalid header' },
  invalid_collection: { status: 400, title: 'Invalid collection definition' },
  invalid_credentials: { status: 400, title: 'Invalid credentials' },
  oauth2_invalid_state: { status: 400, title: 'Invalid OAuth2 state' },
  oauth2_failed: { status: 400, title: 'OAuth2 sign-in failed' },
  oauth2_account_exists: { status: 400, title: 'Account exists' },
  oauth2_already_linked: { status: 400, title: 'Provider account already linked' },
  batch_failed: { status: 400, title: 'Batch request failed' },
  refused: { status: 400, title: 'Refused' },
  invalid_backup: { status: 400, title: 'Invalid backup archive' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  invalid_token: { status: 401, title: 'Invalid token' },
  forbidden: { status: 403, title: 'Forbidden' },
  csrf_failed: { status: 403, title: 'CSRF check failed' },
  origin_not_allowed: { status: 403, title: 'Origin not allowed' },
  reauthentication_required: { status: 403, title: 'Recent sign-in required' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'Route not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  idempotency_in_flight: { status: 409, title: 'Request still in progress' },
  setup_done: { status: 409, title: 'Setup already done' },
  mfa_already_enabled: { status: 409, title: 'Second factor already enabled' },
  schema_changed: { status: 409, title: 'Schema changed during the request' },
  job_not_retryable: { status: 409, title: 'Job cannot be retried' },
  job_running: { status: 409, title: 'Job is running' },
  webhook_delivery_sending: { status: 409, title: 'Webhook delivery is being sent' },
  backup_in_progress: { status: 409, title: 'A backup or restore is running' },
  restore_unavailable: { status: 409, title: 'Restore needs a restartable server' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  body_too_large: { status: 413, title: 'Body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_mismatch: { status: 422, title: 'Idempotency key reused with another request' },
  image_unprocessable: { status: 422, title: 'Image cannot be processed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  oauth2_provider_unavailable: { status: 502, title: 'OAuth2 provider unavailable' },
  mail_failed: { status: 502, title: 'Mail server did not take the mail' },
  not_ready: { status: 503, title: 'Service unavailable' },
  admin_not_built: { status: 503, title: 'Admin app not built' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof errorCatalogue
