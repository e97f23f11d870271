import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import type { Notifications } from '../../notifications.js'

/** The longest wait between two attempts to get the listening connection back. */
const MAX_RECONNECT_MS = 2000

/**
 * LISTEN/NOTIFY. Listening holds one connection of its own, outside the pool (a
 * pooled connection would be handed to queries and lose its LISTENs); it is opened
 * with the first listener and opened again, with every channel, when it drops.
 * Messages sent while it was away are lost: listeners use them as hints and keep
 * a poll of their own.
 */
export function postgresNotifications(db: Kysely<any>, url: string): Notifications {
  const listeners = new Map<string, Set<(payload: string) => void>>()
  let client: pg.Client | null = null
  let connecting: Promise<void> | null = null
  let failures = 0
  let isClosed = false
  let retry: NodeJS.Timeout | null = null

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url })
      next.on('notification', (message) => {
        for (const listener of listeners.get(message.channel) ?? []) listener(message.payload ?? '')
      })
      // A connection the server or the network ends is replaced; without this listener the error would end the process.
      next.on('error', () => reconnect(next))
      next.on('end', () => reconnect(next))
      try {
        await next.connect()
        for (const channel of listeners.keys()) await next.query(`listen ${next.escapeIdentifier(channel)}`)
        if (isClosed) return void (await next.end())
        client = next
        failures = 0
      } catch {
        reconnect(next)
      } finally {
        connecting = null
      }
    })()
    return connecting
  }

  const reconnect = (lost: pg.Client): void => {
    if (client === lost) client = null
    lost.removeAllListeners('end')
    lost.end().catch(() => {})
    if (isClosed || retry) return
    failures += 1
    retry = setTimeout(
      () => {
        retry = null
        if (!isClosed && client === null) void connect()
      },
      Math.min(MAX_RECONNECT_MS, 50 * 2 ** failures),
    )
    retry.unref()
  }

  return {
    async notify(channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(db)
    },
    listen(channel, listener) {
      let channelListeners = listeners.get(channel)
      if (!channelListeners) {
        channelListeners = new Set()
        listeners.set(channel, channelListeners)
        // A second LISTEN of a channel is harmless, so one that a connection in progress already sent may come again.
        void (client ? Promise.resolve() : (connecting ?? connect())).then(() =>
          client?.query(`listen ${client.escapeIdentifier(channel)}`).catch(() => {}),
        )
      }
      channelListeners.add(listener)
      return () => {
        channelListeners.delete(listener)
      }
    },
    async close() {
      isClosed = true
      if (retry) clearTimeout(retry)
      await connecting
      const last = client
      client = null
      if (last) {
        last.removeAllListeners('end')
        await last.end().catch(() => {})
      }
    },
  }
}
