import type { JobHandler, JobQueue } from '../jobs/index.js'
import type { EventConsumer } from './dispatcher.js'
import { publicEvent } from './outbox.js'
import type { EventAction, PlinthEvent, StoredEvent } from './types.js'

const ACTIONS: readonly string[] = ['create', 'update', 'delete', '*']

/** Job names of event handlers start with this, so they never meet a project's own job names. */
export const EVENT_JOB_PREFIX = 'event:'

/** Why an event-handler key is not one, or null: `<collection>.<action>`, either part may be `*`. */
export function eventKeyProblem(key: string): string | null {
  const dot = key.lastIndexOf('.')
  if (dot <= 0) return `"${key}" should be <collection>.<action>, such as "orders.create" or "orders.*"`
  const action = key.slice(dot + 1)
  if (!ACTIONS.includes(action))
    return `"${key}" ends in "${action}"; the action is one of ${ACTIONS.join(', ')}`
  return null
}

export function eventKeyCollection(key: string): string {
  return key.slice(0, key.lastIndexOf('.'))
}

function matches(key: string, collection: string, action: EventAction): boolean {
  const wanted = eventKeyCollection(key)
  const wantedAction = key.slice(key.lastIndexOf('.') + 1)
  return (wanted === '*' || wanted === collection) && (wantedAction === '*' || wantedAction === action)
}

/**
 * Runs the project's event handlers as jobs: each matching event becomes a job in
 * the queue, with its retries, so a handler that fails is run again rather than the
 * event forgotten. Handlers see each event at least once.
 */
export function eventJobs<Context extends object>(
  jobs: JobQueue<Context>,
  handlers: Record<string, (event: PlinthEvent, context: any) => unknown>,
): EventConsumer | null {
  const keys = Object.keys(handlers)
  if (keys.length === 0) return null
  for (const key of keys) {
    const handler = handlers[key]!
    jobs.register(`${EVENT_JOB_PREFIX}${key}`, ((payload: PlinthEvent, context: Context) =>
      handler(payload, context)) as JobHandler<Context>)
  }
  return {
    name: 'jobs',
    durable: true,
    async deliver(events: StoredEvent[]) {
      for (const event of events) {
        for (const key of keys) {
          if (!matches(key, event.collection, event.action)) continue
          // The key makes a repeat delivery of the same event a no-op while its job waits.
          await jobs.enqueue(`${EVENT_JOB_PREFIX}${key}`, publicEvent(event), {
            uniqueKey: `${key}:${event.id}`,
          })
        }
      }
    },
  }
}
