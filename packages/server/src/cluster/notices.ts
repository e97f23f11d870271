import type { Channel, SharedState } from './shared-state.js'

/**
 * A notice on `channel` at most once per `intervalMs`, the last call of a burst
 * included: under load, thousands of commits a second cost a few messages. Each call
 * names a number that only grows (the newest event a commit wrote); the notice carries
 * the largest named so far, so a listener learns it without asking the database.
 */
export function noticeSender(
  state: SharedState,
  channel: Channel,
  intervalMs: number,
): (newest: number) => void {
  let lastSent = 0
  let pending: NodeJS.Timeout | null = null
  let largest = 0
  const send = () => {
    pending = null
    lastSent = Date.now()
    void state.publish(channel, String(largest))
  }
  return (newest) => {
    if (newest > largest) largest = newest
    if (pending) return
    const wait = lastSent + intervalMs - Date.now()
    if (wait <= 0) send()
    else {
      pending = setTimeout(send, wait)
      pending.unref()
    }
  }
}

/** The number a notice of `noticeSender` carries; undefined for anything else. */
export function noticedNumber(message: string): number | undefined {
  if (!/^\d{1,15}$/.test(message)) return undefined
  const value = Number(message)
  return value > 0 ? value : undefined
}
