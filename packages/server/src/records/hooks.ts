import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import type { Caller } from '../identity/index.js'
import type { RecordData } from './types.js'

export const HOOK_NAMES = [
  'beforeCreate',
  'afterCreate',
  'beforeUpdate',
  'afterUpdate',
  'beforeDelete',
  'afterDelete',
] as const

export type HookName = (typeof HOOK_NAMES)[number]
export type BeforeHookName = 'beforeCreate' | 'beforeUpdate' | 'beforeDelete'
export type AfterHookName = 'afterCreate' | 'afterUpdate' | 'afterDelete'

/** What every hook is told about the write, besides the services of `Context`. */
export interface RecordHookBase {
  /** The collection's name. */
  collection: string
  definition: CollectionDefinition
  /**
   * The record as it will be stored (before-hooks may change its fields), as it was
   * stored (after-hooks), or as it was before a delete. Hidden fields included.
   */
  record: RecordData
  /** The record before an update or delete; null on create. */
  previous: RecordData | null
  caller: Caller
  /** The write transaction in before-hooks; the database after commit in after-hooks. */
  tx: Kysely<any>
  /** True when a delete was cascaded from a related record by a foreign key. */
  isCascade: boolean
}

/** The write, and the services of the composition root (records acting as the caller, jobs, mail, log). */
export type RecordHookEvent<Context = Record<string, unknown>> = RecordHookBase & Context

export type RecordHook<Context = Record<string, unknown>> = (
  event: RecordHookEvent<Context>,
) => void | Promise<void>

/** Hooks by collection name (or `*`, every collection) and hook name. */
export type HookSet<Context = Record<string, unknown>> = Record<
  string,
  Partial<Record<HookName, RecordHook<Context>>>
>

/**
 * The hooks in force. Replaced whole when a config is reloaded, so a write sees
 * either the old set or the new one, never a mix.
 */
export class RecordHooks {
  #byCollection = new Map<string, Map<HookName, RecordHook<any>[]>>()

  /** Replaces every hook with those of `set`. */
  replace(set: HookSet<any>): void {
    const next = new Map<string, Map<HookName, RecordHook<any>[]>>()
    for (const [collection, hooks] of Object.entries(set)) {
      const byName = new Map<HookName, RecordHook<any>[]>()
      for (const name of HOOK_NAMES) {
        const hook = Object.hasOwn(hooks, name) ? hooks[name] : undefined
        if (hook) byName.set(name, [hook])
      }
      next.set(collection, byName)
    }
    this.#byCollection = next
  }

  /** The hooks to run for a write, the collection's own first, then `*`. */
  for(collection: string, name: HookName): RecordHook<any>[] {
    const own = this.#byCollection.get(collection)?.get(name)
    const all = this.#byCollection.get('*')?.get(name)
    if (!own) return all ?? NONE
    return all ? [...own, ...all] : own
  }

  /** Whether any hook of these names is in force (writes skip the work otherwise). */
  has(collection: string, name: HookName): boolean {
    return this.for(collection, name).length > 0
  }
}

const NONE: RecordHook<any>[] = []
