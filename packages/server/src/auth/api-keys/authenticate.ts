import type { FastifyRequest } from 'fastify'
import { ForbiddenError } from '../../errors/index.js'
import type { Caller } from '../../identity/index.js'
import { routePattern } from '../../metrics/index.js'
import type { ApiKeyService } from './api-keys.js'

// PocketBase clients send the credential without the scheme; a key reads the same either way.
const KEY_BEARER = /^(?:Bearer )?(plk_\S+)$/

/**
 * Routes a key is accepted on, by their registered pattern (so no spelling of a URL
 * slips past): the records API, batches and the public read-only endpoints. Anything
 * else, auth management above all, needs a signed-in session: a key cannot mint keys.
 */
const KEY_ROUTES = [
  /^\/api\/collections\/:[A-Za-z]+\/records(\/:[A-Za-z]+)?$/,
  /^\/api\/batch$/,
  /^\/api\/files\/:collection\/:recordId\/:filename$/,
  /^\/api\/health(\/ready)?$/,
  /^\/api\/openapi\.json$/,
]

/** Whether an Authorization header carries an API key rather than an access token. */
export function isApiKeyHeader(header: string): boolean {
  return /^(?:Bearer )?plk_/.test(header.trimStart())
}

/** The caller of a request sent with `Authorization: Bearer plk_…` (or the bare `plk_…`). */
export async function authenticateApiKey(apiKeys: ApiKeyService, request: FastifyRequest): Promise<Caller> {
  const match = KEY_BEARER.exec((request.headers.authorization ?? '').trim())
  const route = routePattern(request)
  if (route !== undefined && !KEY_ROUTES.some((pattern) => pattern.test(route)))
    throw new ForbiddenError('API keys work with the records API and batches only; sign in for this.')
  return apiKeys.verify(match?.[1] ?? '')
}
