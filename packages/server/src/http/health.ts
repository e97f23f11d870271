import type { FastifyInstance } from 'fastify'
import { type Dialect, ping } from '../db/index.js'
import { PlinthError } from '../errors/index.js'

export interface Lifecycle {
  /** Set when the node starts draining: readiness fails so load balancers stop sending traffic. */
  isDraining: boolean
}

/** Liveness (the process answers) and readiness (the database answers and the node is not draining). */
export async function healthRoutes(
  app: FastifyInstance,
  options: { dialect: Dialect; lifecycle: Lifecycle },
): Promise<void> {
  app.get('/api/health', async function health() {
    return { status: 'ok' }
  })

  app.get('/api/health/ready', async function ready() {
    if (options.lifecycle.isDraining) throw new PlinthError(503, 'not_ready', 'The node is shutting down.')
    try {
      await ping(options.dialect.db)
    } catch {
      throw new PlinthError(503, 'not_ready', 'The database does not answer.')
    }
    return { status: 'ok', database: options.dialect.name }
  })
}
