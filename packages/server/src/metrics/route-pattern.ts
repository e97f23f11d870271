import type { FastifyRequest } from 'fastify'

const PATTERN = Symbol('plinth.routePattern')

type Memo = { [PATTERN]?: string | undefined }

/**
 * The pattern of the route a request matched (`/api/collections/:collection/records/:id`),
 * undefined when it matched none. Fastify's `routeOptions` getter builds a new object on
 * every read, and metrics, logs, rate limits and the read cache each ask for the pattern,
 * so it is read once per request and kept on the request.
 */
export function routePattern(request: FastifyRequest): string | undefined {
  const memo = request as Memo
  if (PATTERN in memo) return memo[PATTERN]
  const pattern = request.routeOptions.url
  memo[PATTERN] = pattern
  return pattern
}
