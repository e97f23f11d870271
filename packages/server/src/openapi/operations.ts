import { type JsonSchema, ref } from './document-context.js'
import { type Method, needsCredentials, needsCsrfToken, type Requirement } from './security-schemes.js'
import { jsonContent, type ProblemStatus, problems } from './shared-components.js'

export interface OperationSpec {
  summary: string
  description?: string
  security: Requirement[]
  /** Reusable parameters by name, or parameters of this operation alone. */
  parameters?: Array<string | JsonSchema>
  body?: { schema: JsonSchema; isOptional?: boolean }
  responses: Record<string, JsonSchema>
  /** Error statuses of the operation itself; those every request can meet are added. */
  problems?: ProblemStatus[]
}

const WRITES = new Set<Method>(['post', 'patch', 'delete'])

/**
 * Errors any request of this kind can meet: every request counts against a rate
 * limit; POST, PATCH and DELETE take an Idempotency-Key (a malformed key is a 400,
 * a key in flight 409, reused with another body 422); a body can be malformed, too
 * large or of another media type; missing credentials are a 401, and a cookie-mode
 * write without its CSRF header a 403.
 */
function commonProblems(method: Method, spec: OperationSpec): ProblemStatus[] {
  const statuses: ProblemStatus[] = [429]
  if (WRITES.has(method)) statuses.push(400, 409, 422)
  if (spec.body) statuses.push(400, 413, 415)
  if (needsCredentials(spec.security)) statuses.push(401)
  if (needsCsrfToken(spec.security)) statuses.push(403)
  return statuses
}

/** An operation of the API, with what every operation of its method shares. */
export function operation(
  method: Method,
  operationId: string,
  tags: string[],
  spec: OperationSpec,
): JsonSchema {
  const parameters = [...(spec.parameters ?? [])]
  if (WRITES.has(method)) parameters.push('IdempotencyKey')
  const statuses = new Set([...(spec.problems ?? []), ...commonProblems(method, spec)])
  return {
    operationId,
    tags,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: spec.security,
    ...(parameters.length > 0
      ? { parameters: parameters.map((p) => (typeof p === 'string' ? ref(p, 'parameters') : p)) }
      : {}),
    ...(spec.body
      ? { requestBody: { required: spec.body.isOptional !== true, content: jsonContent(spec.body.schema) } }
      : {}),
    responses: { ...spec.responses, ...problems(...[...statuses].sort((a, b) => a - b)) },
  }
}

export function ok(description: string, schema: JsonSchema): JsonSchema {
  return { description, content: jsonContent(schema) }
}

export const SUPERUSERS_ONLY = 'Superusers only.'
export const dateTime = { type: 'string', format: 'date-time' }
export const nullableDateTime = { type: ['string', 'null'], format: 'date-time' }

export function queryParameter(name: string, description: string, schema: JsonSchema): JsonSchema {
  return { name, in: 'query', required: false, description, schema }
}

export function uuidPathParameter(name: string, description: string): JsonSchema {
  return { name, in: 'path', required: true, description, schema: { type: 'string', format: 'uuid' } }
}

/** `page` and `perPage`, as every paged list of Plinth's own endpoints takes them. */
export function pagingParameters(what: string): JsonSchema[] {
  return [
    queryParameter('page', 'The page, from 1.', { type: 'integer', minimum: 1, default: 1 }),
    queryParameter('perPage', `${what} per page.`, {
      type: 'integer',
      minimum: 1,
      maximum: 500,
      default: 30,
    }),
  ]
}

/** One page of `item`s, in the shape of the records API's lists. */
export function pageOf(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items: item },
      page: { type: 'integer' },
      perPage: { type: 'integer' },
      totalItems: { type: 'integer' },
      totalPages: { type: 'integer' },
    },
    required: ['items', 'page', 'perPage', 'totalItems', 'totalPages'],
  }
}
