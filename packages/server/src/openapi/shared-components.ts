import { MAX_SEARCH_LENGTH } from '../query/index.js'
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../records/index.js'
import { type JsonSchema, ref } from './document-context.js'
import { securitySchemes } from './security-schemes.js'

const PROBLEM_MEDIA_TYPE = 'application/problem+json'

/** Error answers by status, each a reusable response of problem+json. */
const problemResponses = {
  400: ['BadRequest', 'The request is invalid: `errors` names each field or parameter at fault.'],
  401: ['Unauthorized', 'No valid credentials where some are needed, or a bearer token that is not valid.'],
  403: ['Forbidden', 'Signed in, but not allowed to do this.'],
  404: ['NotFound', 'No such record, or one the rules hide.'],
  409: [
    'Conflict',
    'A request with the same Idempotency-Key is still running, the collection changed while the request ran (schema_changed: send it again), or the state does not allow this (setup done, TOTP on already).',
  ],
  412: ['PreconditionFailed', 'The record changed since it was read: If-Match did not match.'],
  413: ['PayloadTooLarge', 'The body is larger than the limit.'],
  415: ['UnsupportedMediaType', 'The body is not sent as application/json.'],
  422: ['UnprocessableContent', 'The Idempotency-Key was used before with a different body.'],
  429: ['TooManyRequests', 'Too many requests; retry after the time in Retry-After.'],
  502: ['BadGateway', 'An upstream service (the OAuth2 provider) could not be reached or failed.'],
  503: ['ServiceUnavailable', 'The node is not ready (database down, or shutting down).'],
} as const

export type ProblemStatus = keyof typeof problemResponses

/** The `responses` entries of the given error statuses. */
export function problems(...statuses: ProblemStatus[]): Record<string, JsonSchema> {
  return Object.fromEntries(
    statuses.map((status) => [String(status), ref(problemResponses[status][0], 'responses')]),
  )
}

/** Error statuses that any write can meet: idempotency, body limits and rate limits. */
export const writeProblems: ProblemStatus[] = [409, 413, 415, 422, 429]

export function jsonContent(schema: JsonSchema): JsonSchema {
  return { 'application/json': { schema } }
}

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'An error, as RFC 9457 problem details.',
  properties: {
    type: {
      type: 'string',
      format: 'uri',
      description: 'A stable URI per kind of error, e.g. urn:plinth:error:validation_failed.',
    },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request id, also sent as X-Request-Id.' },
    errors: {
      type: 'object',
      description: 'What is wrong with each field or parameter, by name.',
      additionalProperties: ref('FieldError'),
    },
    failedIndex: {
      type: 'integer',
      minimum: 0,
      description: 'Batch only: the index of the request that failed.',
    },
    failedStatus: { type: 'integer', description: 'Batch only: the status that request would have had.' },
    failedCode: { type: 'string', description: 'Batch only: the error code of that request.' },
    position: {
      type: 'integer',
      minimum: 0,
      description: 'Filter and sort errors: where in the expression the problem is.',
    },
    message: { type: 'string', description: 'The same as detail, where PocketBase clients read it.' },
    data: {
      type: 'object',
      description:
        'The same as errors (an empty object when there are none), where PocketBase clients read them.',
      additionalProperties: ref('FieldError'),
    },
  },
  required: ['type', 'title', 'status', 'detail', 'instance', 'message', 'data'],
}

const fieldErrorSchema: JsonSchema = {
  type: 'object',
  properties: {
    code: { type: 'string', description: 'Stable snake_case code, e.g. required or invalid_type.' },
    message: { type: 'string' },
  },
  required: ['code', 'message'],
}

export const sharedSchemas: Record<string, JsonSchema> = {
  Problem: problemSchema,
  FieldError: fieldErrorSchema,
}

const headers: Record<string, JsonSchema> = {
  ETag: {
    description: 'Strong validator of the record version; send it back in If-Match or If-None-Match.',
    schema: { type: 'string' },
  },
  Location: { description: 'The URL of the created resource.', schema: { type: 'string' } },
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
  RequestId: { description: 'The id of this request, for logs and support.', schema: { type: 'string' } },
}

function problemResponse(description: string, status: number): JsonSchema {
  return {
    description,
    headers: {
      'X-Request-Id': ref('RequestId', 'headers'),
      ...(status === 429 ? { 'Retry-After': ref('RetryAfter', 'headers') } : {}),
    },
    content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } },
  }
}

const responses: Record<string, JsonSchema> = Object.fromEntries(
  Object.entries(problemResponses).map(([status, [name, description]]) => [
    name,
    problemResponse(description, Number(status)),
  ]),
)

function pathId(description: string, schema: JsonSchema = { type: 'string', format: 'uuid' }): JsonSchema {
  return { name: 'id', in: 'path', required: true, description, schema }
}

function queryParameter(name: string, description: string, schema: JsonSchema, example?: string) {
  return { name, in: 'query', required: false, description, schema, ...(example ? { example } : {}) }
}

const parameters: Record<string, JsonSchema> = {
  Filter: queryParameter(
    'filter',
    'Only records matching this expression, e.g. `title ~ "abc" && views > 10`.',
    { type: 'string' },
  ),
  Sort: queryParameter(
    'sort',
    'Comma-separated fields, `-` for descending; the record id breaks ties.',
    { type: 'string' },
    '-created,title',
  ),
  Page: queryParameter('page', 'The page, from 1.', { type: 'integer', minimum: 1, default: 1 }),
  PerPage: queryParameter('perPage', 'Records per page.', {
    type: 'integer',
    minimum: 1,
    maximum: MAX_PER_PAGE,
    default: DEFAULT_PER_PAGE,
  }),
  Fields: queryParameter(
    'fields',
    'Comma-separated properties to return (`*` for all, dotted paths inside `expand`).',
    { type: 'string' },
  ),
  Expand: queryParameter(
    'expand',
    'Comma-separated relation fields whose records are returned under `expand`, or back-relations (`comments_via_post`: the records whose relation points here); dots go deeper.',
    { type: 'string' },
  ),
  SkipTotal: queryParameter(
    'skipTotal',
    'Skip counting: totalItems and totalPages are then -1, and the list is faster.',
    { type: 'string', enum: ['1', 'true', '0', 'false'] },
  ),
  Search: queryParameter(
    'search',
    'Full-text search: every word must match; `"a phrase"`, `prefix*` and `-excluded` are understood. Ranked by relevance unless `sort` is given.',
    { type: 'string', maxLength: MAX_SEARCH_LENGTH },
    'search engine -draft',
  ),
  Highlight: queryParameter(
    'highlight',
    'With `search`: add `highlight` to each record, a snippet per matched field as HTML, escaped, with the matches in `<mark>`.',
    { type: 'string', enum: ['1', 'true', '0', 'false'] },
  ),
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'A retry with the same key and body answers the first result instead of acting twice (kept 24 h).',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'Act only if the record still has this ETag (strong comparison); otherwise 412.',
    schema: { type: 'string' },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'Answer 304 without a body if the record still has this ETag.',
    schema: { type: 'string' },
  },
  RecordId: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The id of the record.',
    schema: { type: 'string', format: 'uuid' },
  },
  SessionId: pathId('The id of the session.'),
  ApiKeyId: pathId('The id of the API key.'),
  PasskeyId: pathId('The id of the passkey (its WebAuthn credential id).', {
    type: 'string',
    pattern: '^[A-Za-z0-9_-]+$',
  }),
  Provider: {
    name: 'provider',
    in: 'path',
    required: true,
    description: 'The name of the OAuth2 provider, e.g. google.',
    schema: { type: 'string' },
  },
  AuthMode: {
    name: 'X-Plinth-Auth',
    in: 'header',
    required: false,
    description:
      'Cookie mode for browsers: `cookie` puts the tokens of the answer into HttpOnly cookies instead of the body.',
    schema: { type: 'string', enum: ['cookie'] },
  },
  CollectionName: {
    name: 'name',
    in: 'path',
    required: true,
    description: 'The name of the collection.',
    schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  },
}

export const sharedComponents = {
  headers,
  responses,
  parameters,
  securitySchemes,
}
