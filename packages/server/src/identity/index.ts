import type { CollectionDefinition } from '../collections/index.js'
import { ForbiddenError, UnauthorizedError } from '../errors/index.js'

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

/** Plinth itself acting with every right: flows, the CLI and code that opts out of rules. */
export const superuser: Caller = Object.freeze({ auth: null, isSuperuser: true })

/** 401 for anonymous callers, 403 for signed-in ones that are not superusers. */
export function requireSuperuser(caller: Caller, what = 'do this'): void {
  if (caller.isSuperuser) return
  if (!caller.auth) throw new UnauthorizedError(`Sign in as a superuser to ${what}.`)
  throw new ForbiddenError(`Only superusers may ${what}.`)
}
