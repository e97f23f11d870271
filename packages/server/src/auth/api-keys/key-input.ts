import type { CollectionRegistry } from '../../collections/index.js'
import { type FieldErrors, ValidationError } from '../../errors/index.js'
import type { ApiKeyScope, RecordOperation } from '../../identity/index.js'

export const recordOperations: readonly RecordOperation[] = ['list', 'view', 'create', 'update', 'delete']

export const MAX_NAME_LENGTH = 100
export const MAX_SCOPES = 50
/** Keys expire at the latest a year after they were made, so a forgotten one does not live forever. */
export const MAX_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000

export interface NewApiKey {
  name: string
  scopes: ApiKeyScope[]
  expires: Date
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/
// Control characters would make the name misleading in lists and logs.
const CONTROL = /\p{Cc}/u

function issue(code: string, message: string) {
  return { code, message }
}

/**
 * Checks the body of `POST /api/auth/api-keys` and names each wrong field: `name`,
 * `scopes` (or `scopes.N.collection`, `scopes.N.operations`) and `expires`.
 */
export function parseNewApiKey(body: unknown, registry: CollectionRegistry, now: number): NewApiKey {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ValidationError({ body: issue('invalid_type', 'must be a JSON object') })
  const { name, scopes, expires, ...rest } = body as Record<string, unknown>
  const errors: FieldErrors = {}
  for (const unknown of Object.keys(rest)) errors[unknown] = issue('unknown_field', 'is not accepted here')

  if (typeof name !== 'string') errors.name = issue('required', 'must be a string')
  else if (name.trim() === '' || name.length > MAX_NAME_LENGTH)
    errors.name = issue('invalid_length', `must be 1 to ${MAX_NAME_LENGTH} characters`)
  else if (CONTROL.test(name)) errors.name = issue('invalid_value', 'must not contain control characters')

  const parsedScopes = parseScopes(scopes, registry, errors)

  let expiresAt = new Date(now + MAX_LIFETIME_MS)
  if (expires !== undefined) {
    const parsed = typeof expires === 'string' && ISO_DATE.test(expires) ? Date.parse(expires) : Number.NaN
    if (Number.isNaN(parsed)) errors.expires = issue('invalid_date', 'must be an ISO 8601 date')
    else if (parsed <= now) errors.expires = issue('invalid_date', 'must be in the future')
    else if (parsed > now + MAX_LIFETIME_MS)
      errors.expires = issue('invalid_date', 'must be at most a year ahead')
    else expiresAt = new Date(parsed)
  }

  if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  return { name: (name as string).trim(), scopes: parsedScopes, expires: expiresAt }
}

function parseScopes(value: unknown, registry: CollectionRegistry, errors: FieldErrors): ApiKeyScope[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SCOPES) {
    errors.scopes = issue('invalid_value', `must be a list of 1 to ${MAX_SCOPES} scopes`)
    return []
  }
  const seen = new Set<string>()
  const scopes: ApiKeyScope[] = []
  value.forEach((entry, index) => {
    const at = `scopes.${index}`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      errors[at] = issue('invalid_type', 'must be an object with collection and operations')
      return
    }
    const { collection, operations, ...rest } = entry as Record<string, unknown>
    for (const unknown of Object.keys(rest))
      errors[`${at}.${unknown}`] = issue('unknown_field', 'is not accepted here')
    if (typeof collection !== 'string' || (collection !== '*' && !registry.get(collection)))
      errors[`${at}.collection`] = issue('unknown_collection', 'must be "*" or the name of a collection')
    else if (seen.has(collection))
      errors[`${at}.collection`] = issue('duplicate', 'is already named by another scope')
    else seen.add(collection)
    const ops = Array.isArray(operations) ? operations : []
    if (
      ops.length === 0 ||
      ops.some((op) => !recordOperations.includes(op as RecordOperation)) ||
      new Set(ops).size !== ops.length
    )
      errors[`${at}.operations`] = issue(
        'invalid_value',
        `must list each of ${recordOperations.join(', ')} at most once, and at least one`,
      )
    scopes.push({ collection: collection as string, operations: ops as RecordOperation[] })
  })
  return scopes
}
