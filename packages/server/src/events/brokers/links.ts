import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { outgoingTraceparent, runTraced } from '../../telemetry/index.js'
import type { StoredEvent } from '../types.js'

export type BrokerLog = Pick<Logger, 'warn' | 'info'>

/** How long a delivery waits for a broker that is not connected before it fails and is retried. */
export const CONNECT_WAIT_MS = 5_000
/** How long a delivery waits for the broker to confirm a batch. */
export const CONFIRM_TIMEOUT_MS = 15_000
/** The longest pause between attempts to reach a broker. */
export const RECONNECT_MAX_MS = 10_000

/**
 * Logs a broker going away once, and its return once, rather than every failed
 * reconnect: a broker down for an hour is one warning, not thousands.
 */
export function outageLog(log: BrokerLog, broker: string) {
  let isDown = false
  return {
    down(error: unknown) {
      if (isDown) return
      isDown = true
      log.warn({ err: error, broker }, 'the message broker cannot be reached; events wait in the outbox')
    },
    up() {
      if (!isDown) return
      isDown = false
      log.info({ broker }, 'the message broker is reachable again')
    },
  }
}

/**
 * Waits for every publish of a batch to be settled, then fails if any failed: a
 * retry starts only after the attempt before it has finished, so the broker sees
 * each attempt's messages in order.
 */
export async function allConfirmed(publishes: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(publishes)
  const failed = results.find((result) => result.status === 'rejected')
  if (failed) throw failed.reason
}

/** Fails with `why` when `work` takes longer than `ms`. */
export async function within<T>(ms: number, why: string, work: Promise<T>): Promise<T> {
  const abort = new AbortController()
  try {
    return await Promise.race([
      work,
      sleep(ms, undefined, { signal: abort.signal }).then(() => {
        throw new Error(why)
      }),
    ])
  } finally {
    abort.abort()
  }
}

/** Waits `ms`, or less when `signal` aborts; never throws. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {})
}

export function backoff(failures: number): number {
  return Math.min(RECONNECT_MAX_MS, 250 * 2 ** Math.min(failures, 10))
}

/**
 * Publishes one event in a producer span of the trace of the change it reports, handing the
 * publish the traceparent to send in the message's headers: a consumer's spans join the trace.
 */
export function publishTraced<T>(
  system: 'rabbitmq' | 'nats' | 'mqtt',
  destination: string,
  event: StoredEvent,
  publish: (traceparent: string | null) => Promise<T>,
): Promise<T> {
  const attributes = {
    'messaging.system': system,
    'messaging.destination.name': destination,
    'messaging.message.id': event.id,
  }
  return runTraced(
    `publish ${destination}`,
    event.traceparent,
    attributes,
    () => publish(outgoingTraceparent(event.traceparent)),
    { role: 'producer' },
  )
}
