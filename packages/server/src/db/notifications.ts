/**
 * Messages to every connection of one database, for databases that have them
 * (PostgreSQL's LISTEN/NOTIFY): nodes that share the database hear each other
 * without another server.
 */
export interface Notifications {
  /** Sends `payload` (at most a few kilobytes) to every listener of `channel`, this one included. */
  notify(channel: string, payload: string): Promise<void>
  /** Calls `listener` for each message on `channel`, across reconnects, until the returned function is called. */
  listen(channel: string, listener: (payload: string) => void): () => void
  close(): Promise<void>
}
