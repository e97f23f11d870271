import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'

/** Who is asking: the signed-in auth record (with its collection), or nobody. */
export interface Caller {
  auth: { collection: CollectionDefinition; record: Record<string, unknown> } | null
  isSuperuser: boolean
  /** The session the access token belongs to, when the caller signed in. */
  session?: {
    id: string
    impersonatedBy: string | null
    /** When the record last signed in (ms since the epoch); null for impersonation. A refresh keeps it. */
    signedInAt: number | null
  }
  /** The API key the request came with: the caller acts as the key's owner, only within its scopes. */
  apiKey?: { id: string; scopes: ApiKeyScope[] }
}

export type RecordOperation = 'list' | 'view' | 'create' | 'update' | 'delete'

/** One grant of an API key: these operations on one collection, or on all (`*`). */
export interface ApiKeyScope {
  collection: string
  operations: RecordOperation[]
}

export const anonymous: Caller = Object.freeze({ auth: null, isSuperuser: false })

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
}

/**
 * Runs inside the write transaction of every record change, in registration order;
 * throwing aborts the change. Hooks and the event outbox build on this.
 */
export type ChangeListener = (db: Kysely<any>, change: RecordChange) => Promise<void>

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
