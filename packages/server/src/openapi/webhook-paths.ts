import { WEBHOOK_DELIVERY_STATES } from '../events/index.js'
import { type JsonSchema, ref } from './document-context.js'
import {
  dateTime,
  nullableDateTime,
  ok,
  operation,
  pageOf,
  pagingParameters,
  queryParameter,
  SUPERUSERS_ONLY,
  uuidPathParameter,
} from './operations.js'
import { signedIn } from './security-schemes.js'

export const WEBHOOKS_TAG = 'Webhooks'

/** Operation ids of these endpoints; collections must not take them. */
export const webhookOperationIds = [
  'listWebhooks',
  'createWebhook',
  'viewWebhook',
  'updateWebhook',
  'deleteWebhook',
  'listWebhookDeliveries',
  'retryWebhookDelivery',
]

const actions = {
  type: 'array',
  items: { type: 'string', enum: ['create', 'update', 'delete'] },
  minItems: 1,
  maxItems: 3,
  uniqueItems: true,
}
const input = {
  url: { type: 'string', format: 'uri', maxLength: 2048, description: 'http(s), without credentials.' },
  collections: {
    type: 'array',
    items: { type: 'string' },
    minItems: 1,
    maxItems: 100,
    description: 'Names of existing collections.',
  },
  actions,
  filter: {
    type: ['string', 'null'],
    maxLength: 4096,
    description: "A filter on the record's own fields (hidden ones included), literals and @now.",
  },
  paused: {
    type: 'boolean',
    description:
      'Paused by hand: new deliveries are queued as pending and none is sent, nor counted as a failure, until it is set back to false; then they are sent in order. False when left out on create.',
  },
}

export const webhookSchemas: Record<string, JsonSchema> = {
  Webhook: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      ...input,
      circuit: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: ['closed', 'open', 'half-open'] },
          failures: { type: 'integer', description: 'Failed attempts in a row.' },
          pausedUntil: nullableDateTime,
        },
        required: ['state', 'failures', 'pausedUntil'],
      },
      created: dateTime,
      updated: dateTime,
    },
    required: ['id', 'url', 'collections', 'actions', 'filter', 'paused', 'circuit', 'created', 'updated'],
  },
  WebhookCreated: {
    allOf: [
      ref('Webhook'),
      {
        type: 'object',
        properties: {
          secret: { type: 'string', description: '`whsec_` and base64: shown in this answer only.' },
        },
        required: ['secret'],
      },
    ],
  },
  WebhookCreate: {
    type: 'object',
    properties: input,
    required: ['url', 'collections', 'actions'],
    additionalProperties: false,
  },
  WebhookUpdate: { type: 'object', properties: input, minProperties: 1, additionalProperties: false },
  WebhookList: {
    type: 'object',
    properties: { items: { type: 'array', items: ref('Webhook') } },
    required: ['items'],
  },
  WebhookDelivery: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid', description: 'Sent as `webhook-id`, the same on every retry.' },
      webhookId: { type: 'string', format: 'uuid' },
      eventId: { type: 'string' },
      type: { type: 'string', enum: ['record.created', 'record.updated', 'record.deleted'] },
      collection: { type: 'string' },
      recordId: { type: 'string' },
      state: { type: 'string', enum: [...WEBHOOK_DELIVERY_STATES] },
      attempts: { type: 'integer' },
      nextAttempt: { ...nullableDateTime, description: 'While pending or failed: when it is tried next.' },
      responseStatus: { type: ['integer', 'null'] },
      durationMs: { type: ['integer', 'null'] },
      lastError: { type: ['string', 'null'] },
      created: dateTime,
      updated: dateTime,
      finished: nullableDateTime,
    },
    required: [
      'id',
      'webhookId',
      'eventId',
      'type',
      'collection',
      'recordId',
      'state',
      'attempts',
      'nextAttempt',
      'responseStatus',
      'durationMs',
      'lastError',
      'created',
      'updated',
      'finished',
    ],
  },
  WebhookDeliveryList: pageOf(ref('WebhookDelivery')),
}

const webhookId = uuidPathParameter('id', 'The id of the webhook.')

/** Webhook endpoints and their delivery log, for superusers. */
export function webhookPaths(): Record<string, JsonSchema> {
  const tags = [WEBHOOKS_TAG]
  return {
    '/api/webhooks': {
      get: operation('get', 'listWebhooks', tags, {
        summary: 'List webhooks',
        description: SUPERUSERS_ONLY,
        security: signedIn('get'),
        responses: { 200: ok('Every webhook, without secrets.', ref('WebhookList')) },
        problems: [400, 403],
      }),
      post: operation('post', 'createWebhook', tags, {
        summary: 'Register a webhook',
        description: `${SUPERUSERS_ONLY} The answer holds the signing secret, never shown again. A literal private address is refused unless private targets are allowed.`,
        security: signedIn('post'),
        body: { schema: ref('WebhookCreate') },
        responses: {
          201: {
            ...ok('The webhook and its secret.', ref('WebhookCreated')),
            headers: { Location: ref('Location', 'headers') },
          },
        },
        problems: [403],
      }),
    },
    '/api/webhooks/{id}': {
      parameters: [webhookId],
      get: operation('get', 'viewWebhook', tags, {
        summary: 'View a webhook',
        description: SUPERUSERS_ONLY,
        security: signedIn('get'),
        responses: { 200: ok('The webhook, without its secret.', ref('Webhook')) },
        problems: [400, 403, 404],
      }),
      patch: operation('patch', 'updateWebhook', tags, {
        summary: 'Change, pause or resume a webhook',
        description: `${SUPERUSERS_ONLY} \`{"paused": true}\` alone pauses the endpoint (and \`false\` resumes it) without checking the other fields again.`,
        security: signedIn('patch'),
        body: { schema: ref('WebhookUpdate') },
        responses: { 200: ok('The webhook.', ref('Webhook')) },
        problems: [403, 404],
      }),
      delete: operation('delete', 'deleteWebhook', tags, {
        summary: 'Delete a webhook and its delivery log',
        description: SUPERUSERS_ONLY,
        security: signedIn('delete'),
        responses: { 204: { description: 'Deleted.' } },
        problems: [403, 404],
      }),
    },
    '/api/webhooks/{id}/deliveries': {
      parameters: [webhookId],
      get: operation('get', 'listWebhookDeliveries', tags, {
        summary: 'List the deliveries of a webhook, newest first',
        description: `${SUPERUSERS_ONLY} Unknown query parameters are refused.`,
        security: signedIn('get'),
        parameters: [
          queryParameter('state', 'Only deliveries in this state.', {
            type: 'string',
            enum: [...WEBHOOK_DELIVERY_STATES],
          }),
          ...pagingParameters('Deliveries'),
        ],
        responses: { 200: ok('One page of deliveries.', ref('WebhookDeliveryList')) },
        problems: [400, 403, 404],
      }),
    },
    '/api/webhooks/{id}/deliveries/{deliveryId}/retry': {
      parameters: [webhookId, uuidPathParameter('deliveryId', 'The id of the delivery.')],
      post: operation('post', 'retryWebhookDelivery', tags, {
        summary: 'Send a delivery again now',
        description: `${SUPERUSERS_ONLY} Any state but sending (409); its attempts are counted afresh.`,
        security: signedIn('post'),
        responses: { 200: ok('The delivery, pending.', ref('WebhookDelivery')) },
        problems: [403, 404],
      }),
    },
  }
}
