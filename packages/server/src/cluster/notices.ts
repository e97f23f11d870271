import type { Channel, SharedState } from './shared-state.js'

/**
 * A notice on `channel` at most once per `intervalMs`, the last call of a burst
 * included: under load, thousands of commits a second cost a few messages.
 */
export function noticeSender(state: SharedState, channel: Channel, intervalMs: number): () => void {
  let lastSent = 0
  let pending: NodeJS.Timeout | null = null
  const send = () => {
    pending = null
    lastSent = Date.now()
    void state.publish(channel)
  }
  return () => {
    if (pending) return
    const wait = lastSent + intervalMs - Date.now()
    if (wait <= 0) send()
    else {
      pending = setTimeout(send, wait)
      pending.unref()
    }
  }
}
