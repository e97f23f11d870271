import { REQUEST_LOG_FIELDS } from '../logs/index.js'
import { type JsonSchema, ref } from './document-context.js'
import {
  dateTime,
  ok,
  operation,
  pageOf,
  queryParameter,
  SUPERUSERS_ONLY,
  uuidPathParameter,
} from './operations.js'
import { signedIn } from './security-schemes.js'

export const LOGS_TAG = 'Logs'

/** Operation ids of these endpoints; collections must not take them. */
export const logOperationIds = ['listLogs', 'viewLog', 'logStats']

const nullableText = { type: ['string', 'null'] }

export const logSchemas: Record<string, JsonSchema> = {
  RequestLog: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      created: { ...dateTime, description: 'When the request arrived.' },
      method: { type: 'string' },
      route: { ...nullableText, description: 'The route’s pattern; null when no route matched.' },
      url: { type: 'string', description: 'Path and query, without credential parameters.' },
      status: { type: 'integer' },
      duration: { type: 'number', description: 'Milliseconds from the request to the end of its answer.' },
      authId: { ...nullableText, description: 'The signed-in record, if any.' },
      authCollection: { ...nullableText, description: 'Its collection.' },
      ip: { type: 'string' },
      userAgent: { type: 'string' },
      requestId: { type: 'string', description: 'The `X-Request-Id` of the answer.' },
      nodeId: { type: 'string', description: 'The node that answered (`PLINTH_NODE_ID`).' },
      sampleRate: {
        type: 'number',
        exclusiveMinimum: 0,
        maximum: 1,
        description:
          'The share of requests kept when this one was: the row stands for 1 / sampleRate requests.',
      },
    },
    required: [...REQUEST_LOG_FIELDS],
  },
  RequestLogList: pageOf(ref('RequestLog')),
  RequestLogStats: {
    type: 'object',
    properties: {
      interval: { type: 'string', enum: ['minute', 'hour'] },
      items: {
        type: 'array',
        description: 'Buckets with requests, oldest first; at most the newest 1,440.',
        items: {
          type: 'object',
          properties: {
            time: { ...dateTime, description: 'The start of the bucket.' },
            requests: { type: 'integer', description: 'Requests estimated from the sampled rows.' },
            rows: { type: 'integer', description: 'Rows kept.' },
            serverErrors: { type: 'integer', description: 'Answers with a 5xx status (all are kept).' },
          },
        },
      },
    },
  },
}

const filterParameter = queryParameter(
  'filter',
  `Only requests matching this expression in the filter language, over the fields ${REQUEST_LOG_FIELDS.join(', ')}; e.g. \`status >= 500 && created > "2025-01-01"\`.`,
  { type: 'string' },
)

/** The request log, for superusers. */
export function logPaths(): Record<string, JsonSchema> {
  const tags = [LOGS_TAG]
  return {
    '/api/logs': {
      get: operation('get', 'listLogs', tags, {
        summary: 'List logged requests',
        description: `${SUPERUSERS_ONLY} Newest first unless \`sort\` says otherwise. Unknown query parameters are refused.`,
        security: signedIn('get'),
        parameters: [
          filterParameter,
          queryParameter('sort', 'Comma-separated fields, `-` for descending; the id breaks ties.', {
            type: 'string',
            default: '-created',
          }),
          'Page',
          'PerPage',
          'SkipTotal',
        ],
        responses: { 200: ok('One page of requests.', ref('RequestLogList')) },
        problems: [400, 403],
      }),
    },
    '/api/logs/stats': {
      get: operation('get', 'logStats', tags, {
        summary: 'Count logged requests per minute or hour',
        description: `${SUPERUSERS_ONLY} Sampled requests are counted by their sample rate.`,
        security: signedIn('get'),
        parameters: [
          filterParameter,
          queryParameter('interval', 'The size of a bucket.', {
            type: 'string',
            enum: ['minute', 'hour'],
            default: 'hour',
          }),
        ],
        responses: { 200: ok('Requests per bucket.', ref('RequestLogStats')) },
        problems: [400, 403],
      }),
    },
    '/api/logs/{id}': {
      parameters: [uuidPathParameter('id', 'The id of the logged request.')],
      get: operation('get', 'viewLog', tags, {
        summary: 'View a logged request',
        description: SUPERUSERS_ONLY,
        security: signedIn('get'),
        responses: { 200: ok('The request.', ref('RequestLog')) },
        problems: [400, 403, 404],
      }),
    },
  }
}
