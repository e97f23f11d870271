import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../errors/index.js'
import { requireRecentSignIn } from '../recent-sign-in.js'
import type { ApiKeyOwner, ApiKeyService } from './api-keys.js'

/** Keys belong to whoever signed in; a key itself never manages keys. */
function keyOwner(request: FastifyRequest): ApiKeyOwner {
  const { auth, session, apiKey } = request.caller
  if (apiKey) throw new ForbiddenError('An API key cannot manage API keys; sign in.')
  if (!auth || !session) throw new UnauthorizedError('Sign in to manage your API keys.')
  return { collection: auth.collection, recordId: auth.record.id as string }
}

/**
 * `POST|GET /api/auth/api-keys` and `DELETE /api/auth/api-keys/{id}`: the signed-in
 * record's own keys.
 *
 * @example
 * await app.register(apiKeyRoutes, { apiKeys, reauthWindow: 600 })
 */
export async function apiKeyRoutes(
  app: FastifyInstance,
  options: {
    apiKeys: ApiKeyService
    /** Seconds since sign-in within which a key may be created (`PLINTH_REAUTH_WINDOW`). */
    reauthWindow: number
  },
): Promise<void> {
  const { apiKeys, reauthWindow } = options

  app.post('/api/auth/api-keys', async function createApiKey(request, reply) {
    const owner = keyOwner(request)
    // An impersonating superuser gets a short look at the user's view, not lasting access as them.
    if (request.caller.session?.impersonatedBy)
      throw new ForbiddenError('An impersonation session cannot create API keys.')
    // A key outlives the session by months: a stolen access token alone must not mint one.
    requireRecentSignIn(request.caller, reauthWindow)
    return reply.code(201).send(await apiKeys.create(owner, request.body, request.ip))
  })

  app.get('/api/auth/api-keys', async function listApiKeys(request) {
    const items = await apiKeys.list(keyOwner(request))
    return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
  })

  app.delete<{ Params: { id: string } }>(
    '/api/auth/api-keys/:id',
    async function revokeApiKey(request, reply) {
      if (!(await apiKeys.revoke(keyOwner(request), request.params.id, request.ip)))
        throw new NotFoundError('API key')
      return reply.code(204).send()
    },
  )
}
