import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { requireSuperuser } from '../../identity/index.js'
import type { WebhookService } from './service.js'
import { DELIVERY_STATES } from './types.js'

const strict = { additionalProperties: false } as const
const uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' })
const fields = {
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  collections: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 }),
  actions: Type.Array(Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('delete')]), {
    minItems: 1,
    maxItems: 3,
  }),
  filter: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
  paused: Type.Boolean(),
}
const createBody = Type.Object(
  {
    url: fields.url,
    collections: fields.collections,
    actions: fields.actions,
    filter: Type.Optional(fields.filter),
    paused: Type.Optional(fields.paused),
  },
  strict,
)
const updateBody = Type.Partial(Type.Object(fields, strict), { ...strict, minProperties: 1 })
const webhookParams = Type.Object({ id: uuid }, strict)
const deliveryParams = Type.Object({ id: uuid, deliveryId: uuid }, strict)
const deliveriesQuery = Type.Partial(
  Type.Object(
    {
      state: Type.Union(DELIVERY_STATES.map((state) => Type.Literal(state))),
      // Query strings are not coerced: numbers arrive as digits.
      page: Type.String({ pattern: '^[1-9][0-9]{0,6}$' }),
      perPage: Type.String({ pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$' }),
    },
    strict,
  ),
  strict,
)

type WebhookParams = { Params: Static<typeof webhookParams> }

/**
 * `GET|POST /api/webhooks`, `GET|PATCH|DELETE /api/webhooks/{id}`, the delivery log at
 * `GET /api/webhooks/{id}/deliveries` and its replay, for superusers.
 *
 * @example
 * await app.register(webhooksRoutes, { webhooks })
 */
export async function webhooksRoutes(
  app: FastifyInstance,
  options: { webhooks: WebhookService },
): Promise<void> {
  const { webhooks } = options
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function onlySuperusers(request) {
    requireSuperuser(request.caller, 'manage webhooks')
  })

  app.get(
    '/api/webhooks',
    { schema: { querystring: Type.Object({}, strict) } },
    async function listWebhooks() {
      return webhooks.list()
    },
  )

  app.post<{ Body: Static<typeof createBody> }>(
    '/api/webhooks',
    { schema: { body: createBody } },
    async function createWebhook(request, reply) {
      const created = await webhooks.create(request.body)
      return reply.code(201).header('location', `/api/webhooks/${created.id}`).send(created)
    },
  )

  app.get<WebhookParams>(
    '/api/webhooks/:id',
    { schema: { params: webhookParams } },
    async function viewWebhook(request) {
      return webhooks.get(request.params.id)
    },
  )

  app.patch<WebhookParams & { Body: Static<typeof updateBody> }>(
    '/api/webhooks/:id',
    { schema: { params: webhookParams, body: updateBody } },
    async function updateWebhook(request) {
      return webhooks.update(request.params.id, request.body)
    },
  )

  app.delete<WebhookParams>(
    '/api/webhooks/:id',
    { schema: { params: webhookParams } },
    async function deleteWebhook(request, reply) {
      await webhooks.remove(request.params.id)
      return reply.code(204).send()
    },
  )

  app.get<WebhookParams & { Querystring: Static<typeof deliveriesQuery> }>(
    '/api/webhooks/:id/deliveries',
    { schema: { params: webhookParams, querystring: deliveriesQuery } },
    async function listDeliveries(request) {
      const { state, page, perPage } = request.query
      return webhooks.deliveries(request.params.id, {
        ...(state ? { state } : {}),
        page: page === undefined ? 1 : Number(page),
        perPage: perPage === undefined ? 30 : Number(perPage),
      })
    },
  )

  app.post<{ Params: Static<typeof deliveryParams> }>(
    '/api/webhooks/:id/deliveries/:deliveryId/retry',
    { schema: { params: deliveryParams } },
    async function replayDelivery(request) {
      return webhooks.replay(request.params.id, request.params.deliveryId)
    },
  )
}
