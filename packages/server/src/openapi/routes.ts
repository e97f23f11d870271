import type { FastifyInstance } from 'fastify'
import type { CollectionService } from '../collections/index.js'
import { NotFoundError } from '../errors/index.js'
import { sendPage } from '../security/index.js'
import { buildDocument } from './document.js'
import { swaggerUi } from './swagger-ui.js'

// The ?v= digest in every asset URL changes with the file, so a year is safe.
const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * `GET /api/openapi.json`: the OpenAPI 3.1 document of the live collections, and
 * `GET /api/docs`: a reference UI (Swagger UI) reading it.
 *
 * @example
 * await app.register(openapiRoutes, { collections })
 */
export async function openapiRoutes(
  app: FastifyInstance,
  options: { collections: CollectionService },
): Promise<void> {
  app.get('/api/openapi.json', async function openapiDocument(request, reply) {
    // Built per request, so a collection change shows in the very next document.
    const document = buildDocument(options.collections.list(), { isSuperuser: request.caller.isSuperuser })
    // Superusers see more than others, so a shared cache must not hand one's copy to the other.
    return reply.header('cache-control', 'no-cache').header('vary', 'authorization').send(document)
  })

  app.get('/api/docs', async function docsPage(_request, reply) {
    return sendPage(reply, swaggerUi().page, 'no-cache')
  })

  app.get<{ Params: { asset: string } }>('/api/docs/:asset', async function docsAsset(request, reply) {
    // The page's relative asset URLs only resolve from /api/docs itself.
    if (request.params.asset === '') return reply.redirect('../docs', 301)
    const asset = swaggerUi().assets.get(request.params.asset)
    if (!asset) throw new NotFoundError('documentation file')
    const etag = `"${asset.digest}"`
    reply.header('cache-control', IMMUTABLE).header('etag', etag).header('x-content-type-options', 'nosniff')
    if (request.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.type(asset.contentType).send(asset.body)
  })
}
