export type EventAction = 'create' | 'update' | 'delete'
export type EventType = 'record.created' | 'record.updated' | 'record.deleted'

/** Who made a change: a signed-in record, Plinth itself (CLI, jobs, flows), or nobody. */
export type EventActor =
  | { type: 'system' }
  | { type: 'anonymous' }
  | { type: 'superuser' | 'user'; collection: string; id: string; apiKey?: string }

/**
 * One record change, as written to the outbox in the change's own transaction.
 * `record` and `previous` leave out hidden fields: everything here may be delivered.
 */
export interface PlinthEvent {
  id: string
  /** Grows in commit order; realtime clients resume from it (`Last-Event-ID`). */
  seq: number
  type: EventType
  action: EventAction
  collection: string
  recordId: string
  record: Record<string, unknown>
  previous: Record<string, unknown> | null
  actor: EventActor
  /** When the change was made, in ms since the epoch. */
  time: number
}

/**
 * An event with the values of hidden fields, which access rules may read. Only
 * rule checks see `hidden`; nothing in it is ever delivered.
 */
export interface StoredEvent extends PlinthEvent {
  hidden: { record: Record<string, unknown>; previous: Record<string, unknown> | null } | null
  /** The trace of the request that made the change, for what delivers it; never delivered itself. */
  traceparent: string | null
}

export const typeOf: Record<EventAction, EventType> = {
  create: 'record.created',
  update: 'record.updated',
  delete: 'record.deleted',
}
