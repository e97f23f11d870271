import type { Kysely } from 'kysely'
import type { CollectionDefinition, UploadedFile } from '../collections/index.js'
import type { Caller } from '../identity/index.js'

export type RecordData = Record<string, unknown>

export interface ListPage {
  items: RecordData[]
  page: number
  perPage: number
  totalItems: number
  totalPages: number
}

/** A record as stored by a write, handed to change listeners inside the transaction. */
export interface RecordChange {
  action: 'create' | 'update' | 'delete'
  collection: CollectionDefinition
  /** The record after the change (before it, for deletes), as a superuser would see it. */
  record: RecordData
  previous: RecordData | null
  /** Names of the fields the request wrote (`password` included when it was set). */
  written: string[]
  /** Who made the change (for a cascade, who deleted the record it cascaded from). */
  caller: Caller
  /** Files this write uploaded, by stored name; the record's file fields say which it kept. */
  uploads?: ReadonlyMap<string, UploadedFile>
}

/** What a change listener may record for after the commit. */
export interface ChangeUnit {
  /**
   * The number of the newest outbox event the transaction wrote (0 when none): once it has
   * committed, that event and every one before it are settled, as events are numbered in
   * commit order. The outbox's listener sets it; commit listeners are told it.
   */
  newestEvent: number
}

/**
 * Runs inside the write transaction of every record change, in registration order;
 * throwing aborts the change. Hooks and the event outbox build on this.
 */
export type ChangeListener = (db: Kysely<any>, change: RecordChange, unit: ChangeUnit) => Promise<void>

/**
 * Runs before a create or update is validated into the database, with the names of the
 * fields the request writes; throwing refuses the write. Lets other domains (auth) add
 * conditions on who may write what, without the records engine knowing them.
 */
export type WriteGuard = (
  caller: Caller,
  action: 'create' | 'update',
  collection: CollectionDefinition,
  written: string[],
) => void

export interface ReadOptions {
  fields?: string
  expand?: string
}
