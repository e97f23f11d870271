import type { FastifyInstance } from 'fastify'
import type { SharedState } from '../cluster/index.js'
import { type Dialect, ping, type ReplicaStatus } from '../db/index.js'
import { PlinthError } from '../errors/index.js'

export interface Lifecycle {
  /** Set when the node starts draining: readiness fails so load balancers stop sending traffic. */
  isDraining: boolean
  /** Set when the node stops taking connections: each answer then closes its own. */
  isClosing: boolean
}

/**
 * Liveness (the process answers) and readiness (the database answers and the node is not
 * draining). A node whose Redis is away is still ready: it serves on the fallback, and says
 * `degraded` so that monitoring sees it. Read replicas, when configured, are counted: how many
 * there are and how many are passed over after failing to connect.
 */
export async function healthRoutes(
  app: FastifyInstance,
  options: {
    dialect: Dialect
    state: SharedState
    lifecycle: Lifecycle
    replicas: { status(): ReplicaStatus | null }
  },
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
    // Replicas that are down do not make the node unready: their reads go to the primary.
    const replicas = options.replicas.status()
    return {
      status: options.state.status(),
      database: options.dialect.name,
      sharedState: options.state.kind,
      ...(replicas ? { replicas } : {}),
    }
  })
}
