import type { FastifyInstance } from 'fastify'
import { requireSuperuser } from '../identity/index.js'
import type { CollectionService } from './service.js'

type NameParams = { name: string }

/** Collections API: superusers only. Every change is a migration (see CollectionService). */
export async function collectionsRoutes(
  app: FastifyInstance,
  options: { collections: CollectionService },
): Promise<void> {
  const { collections } = options
  app.addHook('preHandler', async function superusersOnly(request) {
    requireSuperuser(request.caller, 'manage collections')
  })

  app.get('/api/collections', async function listCollections() {
    const items = collections.list()
    return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
  })

  app.post('/api/collections', async function createCollection(request, reply) {
    const created = await collections.create(request.body)
    return reply.code(201).header('location', `/api/collections/${created.name}`).send(created)
  })

  app.get<{ Params: NameParams }>('/api/collections/:name', async function viewCollection(request) {
    return collections.get(request.params.name)
  })

  app.patch<{ Params: NameParams }>('/api/collections/:name', async function updateCollection(request) {
    return collections.update(request.params.name, request.body)
  })

  app.delete<{ Params: NameParams }>(
    '/api/collections/:name',
    async function deleteCollection(request, reply) {
      await collections.delete(request.params.name)
      return reply.code(204).send()
    },
  )
}
