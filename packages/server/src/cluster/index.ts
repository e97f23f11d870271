import type { Logger } from 'pino'
import type { ClusterConfig } from '../config/index.js'
import type { Dialect } from '../db/index.js'
import { DatabaseState } from './database-state.js'
import { FailoverState } from './failover-state.js'
import { ProcessState } from './process-state.js'
import { RedisState } from './redis-state.js'
import type { SharedState } from './shared-state.js'

export { SHARED_COUNTERS_TABLE, sharedCountersMigration } from './database-state.js'
export { noticedNumber, noticeSender } from './notices.js'
export type { Channel, SharedState, SharedStateStatus, WindowCount } from './shared-state.js'

/**
 * The shared state this deployment can have: Redis when configured (with the
 * database, or the process, while it is away), else the database when it can
 * tell other nodes (PostgreSQL), else this process (embedded SQLite: one node).
 */
export async function openSharedState(
  config: ClusterConfig,
  dialect: Dialect,
  log: Pick<Logger, 'warn' | 'info'>,
): Promise<SharedState> {
  const local = dialect.notifications
    ? new DatabaseState(dialect.db, dialect.notifications, log)
    : new ProcessState()
  if (!config.redisUrl) return local
  return new FailoverState(
    await RedisState.open({ url: config.redisUrl, prefix: config.redisPrefix, log }),
    local,
  )
}
